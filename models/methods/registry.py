"""The distillation methods by name: each method's module registers its config class and its loss with
:func:`register`, and every list of methods (the ``loss`` choices, the request's union of configs, the
engine's table of losses) is read from here, so a method is named in its own module and nowhere else."""

from typing import Any

CONFIGS: dict[str, type] = {}  # name -> the method's DistillConfig subclass, in registration order
LOSSES: dict[str, type] = {}  # name -> the method's DistillationLoss subclass
_adapter: Any = None
_default: list[str] = []


def register(config: type, *, default: bool = False):
    """Register a loss class under its config's name (the default of the config's ``loss`` field);
    ``default``: the method of a job that names none."""
    name = config.model_fields["loss"].default

    def deco(loss: type) -> type:
        if name in CONFIGS:
            raise ValueError(f"two methods are named {name!r}")
        CONFIGS[name], LOSSES[name] = config, loss
        if default:
            _default.append(name)
        return loss

    return deco


def default() -> str:
    """The method of a job that names none."""
    return _default[0]


def method_of(value) -> str:
    return value.get("loss", default()) if isinstance(value, dict) else getattr(value, "loss", default())


def adapter():
    """Validates a dict into its method's config (set once every method is registered)."""
    return _adapter


def set_adapter(value) -> None:
    global _adapter
    _adapter = value
