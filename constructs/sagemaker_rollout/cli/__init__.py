"""The `sagemaker-rollout` command line (docs/cli.md).

- `plan [CDK_OUT]`: every rollout of a synthesized cloud assembly, its phases, worst case, budget,
  alarms and the instance-hours both fleets overlap (`plan.py`, read by `assembly.py`).
- `watch ENDPOINT_NAME`: a live view of a deployment through DescribeEndpoint (`watch.py`; what
  an answer means in `endpoint_state.py`, how it is shown in `watch_view.py`).

Exit codes (`errors.py`): 0 success, 1 the deployment failed or was rolled back, 2 a usage or
environment error (one line, never a traceback), 130 interrupted.
"""
