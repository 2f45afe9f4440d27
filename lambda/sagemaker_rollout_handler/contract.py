"""Values the construct library and the Lambda handler must agree on, defined once.

The construct (``sagemaker_rollout``) imports them from here: the handler package ships in the
same wheel, so it is always importable at synth time. Nothing here may import boto3, crhelper or
aws_cdk: both sides import this module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Final

#: AWS::CloudFormation::CustomResource ServiceTimeout: 1..3600 s, default 3600
#: (CloudFormation docs, "AWS::CloudFormation::CustomResource").
MIN_SERVICE_TIMEOUT_SECONDS: Final = 1
MAX_SERVICE_TIMEOUT_SECONDS: Final = 3600
DEFAULT_SERVICE_TIMEOUT_SECONDS: Final = MAX_SERVICE_TIMEOUT_SECONDS

#: The handler answers CloudFormation at the latest this long before the custom resource's
#: ServiceTimeout, so that a FAILED answer still arrives in time; the construct's time budget
#: counts with it.
RESPONSE_MARGIN_SECONDS: Final = 90

#: SageMaker's EndpointName pattern (botocore model, EndpointName): 1..63 characters.
ENDPOINT_NAME_PATTERN: Final = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
ENDPOINT_NAME_MAX_LENGTH: Final = 63

#: Names of the AWS resources the handler creates at run time start with this prefix, which the
#: construct's IAM policy uses to scope them.
RESOURCE_NAME_PREFIX: Final = "sagemaker-rollout-"

#: The custom resource's own properties (not SageMaker's): the construct renders them, the
#: handler reads them. RemovalPolicy is "Delete" (the default, never rendered) or "Retain".
ADOPT_EXISTING_PROPERTY: Final = "AdoptExisting"
REMOVAL_POLICY_PROPERTY: Final = "RemovalPolicy"
#: What the next deployment deploys, in words (`canary 25% / bake 10 min / config <digest>`), for
#: a reader of `cdk diff`: the handler accepts it and ignores it.
ROLLOUT_PROPERTY: Final = "Rollout"
REMOVAL_POLICY_DELETE: Final = "Delete"
REMOVAL_POLICY_RETAIN: Final = "Retain"
#: In the WaitCondition mode (rollouts longer than the custom resource's hour), the URL of the
#: WaitConditionHandle the handler signals when the deployment ended. A bearer credential: never
#: logged.
WAIT_HANDLE_PROPERTY: Final = "WaitHandle"
#: AWS::CloudFormation::WaitCondition Timeout: at most 43200 s, 12 h (CloudFormation docs;
#: waiting-at-scale.md, "Waiting longer than an hour"). A handed-off wait ends by then.
MAX_WAIT_CONDITION_TIMEOUT_SECONDS: Final = 43200

#: Tag keys starting with this are the handler's bookkeeping on the endpoint: the construct refuses
#: them in the user's tags.
RESERVED_TAG_PREFIX: Final = "sagemaker-rollout:"
#: The tag the handler keeps on the endpoint: which request of which resource last worked on it.
REQUEST_TAG_KEY: Final = RESERVED_TAG_PREFIX + "request"
#: The ownership tag: which stack's provider made (or adopted) the endpoint. Its value is the
#: CloudFormation stack id, the request's ``StackId`` on the handler's side and ``AWS::StackId``
#: in the provider's IAM policy, whose endpoint statements are conditioned on it
#: (``aws:ResourceTag/sagemaker-rollout:stack``; ``aws:RequestTag/...`` on CreateEndpoint). The
#: construct renders it in the custom resource's Tags (``{"Ref": "AWS::StackId"}``), so
#: CreateEndpoint carries it; the handler adds it (from those Tags) with its claim of an adopted
#: endpoint, and never writes another value or deletes it.
OWNER_TAG_KEY: Final = RESERVED_TAG_PREFIX + "stack"
#: The handler's own tags on an endpoint: the request tag and the ownership tag.
HANDLER_TAG_KEYS: Final = (REQUEST_TAG_KEY, OWNER_TAG_KEY)
#: SageMaker allows 50 tags per resource (botocore model, TagList); the handler's are two of them.
MAX_ENDPOINT_TAGS: Final = 50
MAX_USER_TAGS: Final = MAX_ENDPOINT_TAGS - len(HANDLER_TAG_KEYS)

# --- the wait engine (issue 11): how a request's wait is carried between invocations ----------

#: The provider function's timeout. An invocation watching like a poller (events lost) runs up
#: to about 270 s (``schedule.WATCH_SECONDS`` plus the wait for its predecessor's end).
FUNCTION_TIMEOUT_SECONDS: Final = 360

#: The version of the typed wait state (``state.WaitState``). Version 1 was crhelper's polling
#: (the state under ``LEGACY_STATE_KEY`` in an event delivered by a ``sagemaker-rollout-*``
#: EventBridge rule); a handler of this version still finishes such a wait.
STATE_VERSION: Final = 2
LEGACY_STATE_KEY: Final = "SageMakerRolloutState"

#: The key of the payload an EventBridge Scheduler wake delivers (the schedule's Target.Input).
WAKE_KEY: Final = "SageMakerRolloutWake"

#: Environment variables of the provider function, set by the construct: the schedule group the
#: stack owns, and the role EventBridge Scheduler assumes to invoke the function.
SCHEDULE_GROUP_ENV: Final = "SAGEMAKER_ROLLOUT_SCHEDULE_GROUP"
SCHEDULER_ROLE_ENV: Final = "SAGEMAKER_ROLLOUT_SCHEDULER_ROLE_ARN"
#: The stack's id (``AWS::StackId``): the ownership tag's value. A SageMaker event whose tags name
#: another stack's is not looked into (the provider's policy does not reach that endpoint).
STACK_ID_ENV: Final = "SAGEMAKER_ROLLOUT_STACK_ID"

#: Schedule names: ``<prefix><16 hex of the endpoint name><-><16 hex of the request>``, 51
#: characters (Scheduler allows 64); the endpoint part lets an event find its waits by prefix.
SCHEDULE_NAME_PREFIX: Final = RESOURCE_NAME_PREFIX

#: SageMaker's events on the default bus (SageMaker developer guide,
#: "automating-sagemaker-with-eventbridge").
SAGEMAKER_EVENT_SOURCE: Final = "aws.sagemaker"
SAGEMAKER_EVENT_DETAIL_TYPES: Final = (
    "SageMaker Endpoint State Change",
    "SageMaker Endpoint Deployment State Change",
)

#: EventBridge quota "Event pattern size": 2,048 characters by default (EventBridge quotas page;
#: adjustable to 4,096). A stack's rule lists its endpoints' ARNs while they fit, else it matches
#: every SageMaker endpoint event of the account and Region and the handler filters.
EVENT_PATTERN_LIMIT: Final = 2048

#: The most a wake's payload may be. Scheduler's model gives Target.Input no maximum
#: (botocore's scheduler model: min 1); *unverified*: we hold it to EventBridge's target Input
#: limit of 8,192 characters (custom-resources-and-crhelper.md).
WAKE_INPUT_LIMIT: Final = 8192

#: How long a real presigned ResponseURL can be: 1-1.5 KB (issue 17.1); measured at its longest.
RESPONSE_URL_LENGTH: Final = 1536

#: CloudFormation's longest stack name and logical id (CloudFormation quotas: 128 and 255
#: characters): the reserve below counts the request's StackId and LogicalResourceId with them.
MAX_STACK_NAME_LENGTH: Final = 128
MAX_LOGICAL_ID_LENGTH: Final = 255

#: What a wake carries besides the ResponseURL and the request's properties, at its largest: the
#: request's ids (a StackId with a ``MAX_STACK_NAME_LENGTH`` name in the longest partition and
#: Region, a ``MAX_LOGICAL_ID_LENGTH`` LogicalResourceId, a 140-character ServiceToken, the
#: endpoint's name as PhysicalResourceId) and the typed wait state (``state.WaitState``) with every
#: field at its longest. tests/test_carried_size.py measures it with the handler's own
#: ``wake_payload``, and refuses a new field of the state whose longest value it is not told.
CARRIED_REQUEST_RESERVE: Final = 2816


def carried_properties_limit(*, stack_name_length: int = MAX_STACK_NAME_LENGTH,
                             logical_id_length: int = MAX_LOGICAL_ID_LENGTH) -> int:
    """What the request's ResourceProperties may take in a wake (``carried_size``), for a stack
    name and a logical id of these lengths: the construct refuses, at synth, tags and properties
    that are larger (rule ``properties-fit-wait``), so whatever it accepts can be waited for."""
    return (WAKE_INPUT_LIMIT - RESPONSE_URL_LENGTH - CARRIED_REQUEST_RESERVE
            + MAX_STACK_NAME_LENGTH - stack_name_length + MAX_LOGICAL_ID_LENGTH - logical_id_length)


#: ``carried_properties_limit`` at the longest names: what fits in any stack.
CARRIED_PROPERTIES_LIMIT: Final = carried_properties_limit()


def carried_size(value: Any) -> int:
    """The characters ``value`` takes in a wake's payload: compact JSON, non-ASCII escaped, as
    ``state.wake_payload`` writes it (CloudFormation sends every property value as a string)."""
    return len(json.dumps(value, separators=(",", ":")))


def sagemaker_event_pattern(endpoint_arns: Sequence[str] | None) -> dict[str, Any]:
    """The stack's one EventBridge rule: SageMaker's endpoint events, of the given endpoints when
    named (``resources`` holds the endpoint's ARN), else of every endpoint."""
    pattern: dict[str, Any] = {
        "source": [SAGEMAKER_EVENT_SOURCE],
        "detail-type": list(SAGEMAKER_EVENT_DETAIL_TYPES),
    }
    if endpoint_arns:
        pattern["resources"] = list(dict.fromkeys(endpoint_arns))
    return pattern
