"""sagemaker-rollout: safe, waited-for SageMaker endpoint rollouts for the AWS CDK."""
