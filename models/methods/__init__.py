"""The distillation methods, one module each, holding the method's parameters (a pydantic class), its loss
(an ``nn.Module``) and its name: ``kd``, ``logit_matching``, ``dkd``, ``dist``. The settings they share are
in ``settings.py``, the loss protocol in ``loss.py``. A new method is one new module imported below."""

from typing import Annotated, Union

from pydantic import Discriminator, Tag, TypeAdapter

# isort: off
# each registers itself; in this order (the API schema's, the dashboard's)
from models.methods import kd, logit_matching, dkd, dist  # noqa: F401
# isort: on
from models.methods.registry import CONFIGS, LOSSES, method_of, set_adapter

METHODS: tuple[str, ...] = tuple(CONFIGS)

# The job request's hyperparameters: one object per method, told apart by ``loss`` (the default when absent).
MethodConfig = Annotated[Union[tuple(Annotated[config, Tag(name)] for name, config in CONFIGS.items())],  # noqa: UP007
                         Discriminator(method_of)]
set_adapter(TypeAdapter(MethodConfig))

__all__ = ["CONFIGS", "LOSSES", "METHODS", "MethodConfig"]
