"""The job's spec is one type: the API validates requests with it, stores it, and the worker parses the
stored JSON back into an equal object."""

import json

import pytest
from pydantic import ValidationError

from app.schemas import JobCreate
from models.distill_config import DKDConfig
from models.job_spec import JobSpec

BODY = {
    "teacher_ids": ["tch_a", "tch_b"], "transfer_set_id": "ts_1",
    "student": {"arch": "mlp", "hidden_sizes": [32, 16]},
    "hyperparameters": {"loss": "dkd", "epochs": 3, "temperature": 4.0, "beta": 4.0},
    "baseline": True, "omit_classes": [3, 1, 3], "bias_correction": True,
    "validation_transfer_set_id": "ts_2", "sweep": {"beta": [2.0, 8.0]},
    "export_formats": ["onnx"], "webhook_url": "https://example.com/hook",
}


def test_the_stored_spec_round_trips_to_an_equal_spec():
    request = JobCreate.model_validate(BODY)
    stored = json.loads(json.dumps(request.stored()))  # through the JSON column
    assert "teacher_ids" not in stored and "transfer_set_id" not in stored  # columns of their own
    parsed = JobSpec.from_stored(stored, teacher_ids=["tch_a", "tch_b"], transfer_set_id="ts_1")
    assert parsed.model_dump() == request.model_dump()
    assert isinstance(parsed.hyperparameters, DKDConfig) and parsed.hyperparameters.beta == 4.0
    assert parsed.omit_classes == [1, 3] and parsed.members() == request.members() and len(parsed.members()) == 2


def test_a_stored_spec_from_before_export_formats_and_webhooks_gets_their_defaults():
    old = {"student": {"arch": "mlp"}, "hyperparameters": {"epochs": 1}, "baseline": False, "omit_classes": [],
           "bias_correction": False, "validation_transfer_set_id": None, "student_init_weights": None, "sweep": None}
    spec = JobSpec.from_stored(old, teacher_ids=["tch_a"], transfer_set_id="ts_1")
    assert spec.export_formats == ["exported_program", "onnx", "safetensors", "torchscript"]
    assert spec.webhook_url is None and spec.members() == []


def test_a_member_config_is_validated_by_its_method():
    spec = JobCreate.model_validate(BODY)
    assert spec.config() is spec.hyperparameters
    assert spec.config({"beta": 2.0}).beta == 2.0 and isinstance(spec.config({"beta": 2.0}), DKDConfig)
    with pytest.raises(ValidationError, match="alpha and beta are both 0"):
        spec.config({"alpha": 0.0, "beta": 0.0})


def test_a_request_with_an_unknown_field_or_bad_text_is_refused():
    with pytest.raises(ValidationError, match="extra"):
        JobCreate.model_validate({**BODY, "epochs": 3})
    with pytest.raises(ValidationError, match="NUL"):
        JobCreate.model_validate({**BODY, "transfer_set_id": "ts\x00"})
