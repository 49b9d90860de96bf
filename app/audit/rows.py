"""The audit data keys that hold row ids, and the API type each one names.

An audit event's data names the rows it is about by their ids (`request_id: 42`). The
live events carry those ids to subscribers, who read the rows as the caller may see
them, and the webhooks turn them into the API's global ids; both read this one table,
so a key added here reaches both.
"""

from __future__ import annotations

ROW_ID_KEYS = {
    "request_id": "PromotionRequest",
    "promotion_request_id": "PromotionRequest",
    "image_id": "Image",
    "deployment_id": "Deployment",
    "replaced_deployment_id": "Deployment",  # a rollback's
    "replaced_image_id": "Image",
    "stage_run_id": "StageRun",
}
