"""Values the construct library and the Lambda handler must agree on, defined once.

The construct (``sagemaker_rollout``) imports them from here: the handler package ships in the
same wheel, so it is always importable at synth time. Nothing here may import boto3, crhelper or
aws_cdk: both sides import this module.
"""

from __future__ import annotations

import re
from typing import Final

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

#: Tag keys starting with this are the handler's bookkeeping on the endpoint: the construct refuses
#: them in the user's tags.
RESERVED_TAG_PREFIX: Final = "sagemaker-rollout:"
#: The one tag the handler keeps on the endpoint (which request owns it).
REQUEST_TAG_KEY: Final = RESERVED_TAG_PREFIX + "request"
#: SageMaker allows 50 tags per resource (botocore model, TagList); the request tag is one of them.
MAX_ENDPOINT_TAGS: Final = 50
MAX_USER_TAGS: Final = MAX_ENDPOINT_TAGS - 1
