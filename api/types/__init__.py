from api.types import enums as _register_enums  # noqa: F401  (decorates domain enums)
