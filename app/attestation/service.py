"""Writing and reading signed promotion records (issue 20, item 5).

Promotions calls :func:`record_promotion` in the transaction that marks a request
PROMOTED, so the record exists exactly when the promotion does; the unique request id
makes a second call (a promote job run twice) write nothing.
"""

from __future__ import annotations

import json

from app.attestation import keys
from app.attestation.models import PromotionAttestation
from app.attestation.statement import PAYLOAD_TYPE, PromotionRecord, payload
from app.db import insert_new
from app.dsse import sign_envelope


def envelope_json(record: PromotionRecord) -> tuple[str, str]:
    """The signed DSSE envelope of the record's statement, as JSON, and the key id."""
    key = keys.signing_key()
    envelope = sign_envelope(PAYLOAD_TYPE, payload(record), key.private_key, key.key_id)
    return json.dumps(envelope, indent=2), key.key_id


async def record_promotion(request_pk: int, record: PromotionRecord) -> bool:
    """Sign and store the record of a request that just turned PROMOTED; False when it has
    one already."""
    envelope, key_id = envelope_json(record)
    row = PromotionAttestation(request_id=request_pk, key_id=key_id, envelope=envelope)
    return bool(await insert_new([row], "request_id"))
