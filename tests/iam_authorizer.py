"""IAM in front of the SageMaker emulator: the provider role's synthesized policy, over the wire.

Plugged in as ``SageMakerEmulator.authorizer``, it judges every request signed with
``PROVIDER_ACCESS_KEY`` (the handler's client in these tests; the tests' own set-up client signs
with another key and is not judged) against the statements of the provider role's policies in a
synthesized template, resolved for one deployment (``iam_evaluator``), with the tags the emulator
holds as ``aws:ResourceTag`` and the request's tags as ``aws:RequestTag`` / ``aws:TagKeys``.

What each SageMaker operation is authorised against (Service Authorization Reference, Amazon
SageMaker; ``tests/data/iam_definitions.json``):

- DescribeEndpoint, DeleteEndpoint: the endpoint. UpdateEndpoint: the endpoint and the
  endpoint config. CreateEndpoint: both, with the request's Tags; with Tags also AddTags on the
  endpoint, with ``sagemaker:TaggingAction`` = ``CreateEndpoint`` (a dependent action).
- AddTags, DeleteTags, ListTags: the resource of ``ResourceArn``. DescribeEndpointConfig: the
  config. ListEndpoints / ListEndpointConfigs: ``*``.

A resource that does not exist has no tags, so a statement conditioned on ``aws:ResourceTag``
does not match it: IAM decides before SageMaker looks, and the answer is AccessDenied, not
"Could not find endpoint" (waiting-at-scale.md, IAM condition keys: *unverified*, hence modelled
as the stricter answer; ``absent_denied=False`` offers the other: IAM lets the call through and
SageMaker answers "Could not find endpoint"). A denial is answered as SageMaker's JSON protocol
carries it: HTTP 400, ``AccessDeniedException``, "User: <role> is not authorized to perform:
<action> on resource: <arn> because no identity-based policy allows the <action> action" (the
wording IAM documents in "Troubleshoot access denied error messages", seen e.g. in
aws-controllers-k8s/community#1889).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk.assertions import Template
from iam_evaluator import Deployment, Policy, Request, Resource
from sagemaker_emulator import ApiError
from sagemaker_emulator.model import Store

#: The access key id the provider function's client signs with in the authorised tests.
PROVIDER_ACCESS_KEY = "AKIAPROVIDERROLE0001"
#: The emulator rule of a denial (``Call.error_rule``): on a resource that exists, and on one
#: that does not (no tags for a tag condition to match).
DENIED_RULE = "iam-denied"
DENIED_ABSENT_RULE = "iam-denied-absent"


def provider_policy_documents(template: Template) -> list[dict[str, Any]]:
    """The documents of every policy attached to the provider function's role (inline and
    managed, CDK's overflow policies included), not those of the scheduler role."""
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    role_ref = function["Properties"]["Role"]["Fn::GetAtt"][0]
    documents = []
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for policy in template.find_resources(kind).values():
            if {"Ref": role_ref} in policy["Properties"].get("Roles", []):
                documents.append(policy["Properties"]["PolicyDocument"])
    assert documents, "the provider role has no policy"
    return documents


def deployment_of(stack_id: str) -> Deployment:
    """The deployment whose ``AWS::StackId`` is ``stack_id``
    (``arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>``)."""
    head, name, uuid = stack_id.split("/")
    partition, region, account = head.split(":")[1:2] + head.split(":")[3:5]
    return Deployment(partition=partition, region=region, account=account, stack_name=name,
                      stack_uuid=uuid)


@dataclass
class ProviderPolicyAuthorizer:
    """``SageMakerEmulator.authorizer`` for the provider role's policy. ``policy`` may be
    replaced between requests (a stack update changes the policy before CloudFormation's
    clean-up Deletes run)."""

    policy: Policy
    role_arn: str = "arn:aws:sts::123456789012:assumed-role/ProviderRole/provider-function"
    #: A call on a resource that does not exist is denied (True), or let through to SageMaker.
    absent_denied: bool = True

    @staticmethod
    def of(template: Template, stack_id: str, *,
           absent_denied: bool = True) -> ProviderPolicyAuthorizer:
        return ProviderPolicyAuthorizer(policy_of(template, stack_id),
                                        absent_denied=absent_denied)

    def __call__(self, access_key: str, operation: str, params: dict[str, Any],
                 store: Store) -> None:
        if access_key != PROVIDER_ACCESS_KEY:
            return
        for request in requests_of(operation, params, store):
            for resource in request.resources:
                exists = resource.arn in store.tags
                if not exists and not self.absent_denied:
                    continue
                if not self.policy.allows(
                        Request(request.action, [resource], request.request_tags,
                                request.tag_keys, request.context)):
                    raise access_denied(self.role_arn, request.action, resource.arn,
                                        exists=exists)


def policy_of(template: Template, stack_id: str) -> Policy:
    return Policy(provider_policy_documents(template), deployment_of(stack_id))


def access_denied(role_arn: str, action: str, arn: str, *, exists: bool) -> ApiError:
    return ApiError(
        "AccessDeniedException",
        f"User: {role_arn} is not authorized to perform: {action} on resource: {arn} because "
        f"no identity-based policy allows the {action} action",
        rule=DENIED_RULE if exists else DENIED_ABSENT_RULE,
    )


def requests_of(operation: str, params: Mapping[str, Any], store: Store) -> Iterator[Request]:
    """The authorisation requests one SageMaker call makes (see the module docstring)."""
    action = f"sagemaker:{operation}"
    if operation in ("ListEndpoints", "ListEndpointConfigs"):
        yield Request(action, [Resource("*")])
        return
    if operation == "DescribeEndpointConfig":
        yield Request(action, [_resource(store, store.config_arn(params["EndpointConfigName"]))])
        return
    if operation in ("AddTags", "DeleteTags", "ListTags"):
        resource = _resource(store, params["ResourceArn"])
        tags = _pairs(params.get("Tags", []))
        keys = params.get("TagKeys") if operation == "DeleteTags" else None
        yield Request(action, [resource], tags, keys)
        return
    endpoint = _resource(store, store.endpoint_arn(params["EndpointName"]))
    if operation in ("DescribeEndpoint", "DeleteEndpoint"):
        yield Request(action, [endpoint])
        return
    if operation not in ("CreateEndpoint", "UpdateEndpoint"):
        raise NotImplementedError(f"authorisation of {operation} is not modelled")
    config = _resource(store, store.config_arn(params["EndpointConfigName"]))
    tags = _pairs(params.get("Tags", [])) if operation == "CreateEndpoint" else {}
    yield Request(action, [endpoint, config], tags)
    if tags:
        yield Request("sagemaker:AddTags", [endpoint], tags,
                      context={"sagemaker:TaggingAction": operation})


def _resource(store: Store, arn: str) -> Resource:
    """The resource with the tags it has now (none if it does not exist)."""
    return Resource(arn, dict(store.tags.get(arn, {})))


def _pairs(tags: list[dict[str, str]]) -> dict[str, str]:
    return {str(tag["Key"]): str(tag.get("Value", "")) for tag in tags}
