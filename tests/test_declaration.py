"""Each argument is declared once, in CORSSettings: the signatures users see must match it,
and every precomputed Config field has one owner in the request path."""

from __future__ import annotations

import dataclasses
import inspect
from types import ModuleType

import pytest

from fastcors import CORSConfigError, CORSSettings, check_config
from fastcors._config import Config
from fastcors._settings import BEHAVIOUR


def _declared(exclude: tuple[str, ...] = ()) -> list[tuple[str, object, str, bool]]:
    """(name, default, annotation, keyword-only) for each CORSSettings field."""
    keyword_only = False
    declared = []
    for field in dataclasses.fields(CORSSettings):
        # Starlette's arguments may be passed by position; fastcors' own are keyword-only.
        keyword_only = keyword_only or field.name == "allow_origin_patterns"
        if field.name not in exclude:
            declared.append((field.name, field.default, field.type, keyword_only))
    return declared


def _parameters(function: object, exclude: tuple[str, ...]) -> list[tuple[str, object, str, bool]]:
    return [
        (p.name, p.default, p.annotation, p.kind is inspect.Parameter.KEYWORD_ONLY)
        for p in inspect.signature(function).parameters.values()  # type: ignore[arg-type]
        if p.name not in exclude
    ]


def test_constructor_signature_is_the_declaration(impl: ModuleType) -> None:
    assert _parameters(impl.CORSMiddleware.__init__, ("self", "app", "handle")) == _declared()


def test_check_config_signature_is_the_declaration() -> None:
    assert _parameters(check_config, ()) == _declared(BEHAVIOUR)


def test_constructor_passes_every_argument_on(impl: ModuleType) -> None:
    # A distinct, valid value for every argument: each must arrive in `settings` as given.
    given = {
        "allow_origins": ["https://a.example"],
        "allow_methods": ["PUT"],
        "allow_headers": ["X-A"],
        "allow_credentials": True,
        "allow_origin_regex": "https://b\\.example",
        "allow_private_network": True,
        "expose_headers": ["X-B"],
        "max_age": 5,
        "allow_origin_patterns": ["https://*.c.example"],
        "allow_origin_func": lambda origin: False,
        "websocket_origin_guard": True,
        "starlette_version": "1.6",
        "paths": {"/public": CORSSettings(allow_origins=["*"]), "/internal": None},
        "strict": False,
        "debug": True,
        "on_denied": lambda event: None,
        "log_denials": True,
        "report_only": CORSSettings(allow_origins=["https://a.example"]),
        "on_report": lambda report: None,
    }
    assert set(given) == {field.name for field in dataclasses.fields(CORSSettings)}, "a new argument: add it here"
    settings = impl.CORSMiddleware(None, **given).settings
    assert {name: getattr(settings, name) for name in given} == given


class _Recording:
    """A Config that notes which fields are read."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> object:
        self.read.add(name)
        return getattr(self._config, name)


# The owners of the request path's decisions, each built from the Config (see _core).
OWNERS = (
    "OriginRule", "MethodRule", "HeaderRule", "Preflight", "ReadySuffixes", "HeaderMerge", "SimpleAnswers",
    "WebSocketGuard", "PathPolicies", "ReportOnly",
)  # fmt: skip


def _owner_reads(twin: ModuleType, config: Config) -> dict[str, set[str]]:
    """Which Config fields each owner's constructor reads."""
    origins = twin.OriginRule(config)
    reads = {}
    for name in OWNERS:
        recording = _Recording(config)
        owner = getattr(twin, name)
        extra = {
            "Preflight": (origins, twin.MethodRule(config), twin.HeaderRule(config), None),
            "SimpleAnswers": (origins, twin.ReadySuffixes(config), twin.HeaderMerge(config), None),
            "WebSocketGuard": (origins, None),
            "PathPolicies": ((),),
            "ReportOnly": (None,),
        }.get(name, ())
        instance = owner(recording, *extra)
        reads[name] = recording.read
        # Every field the class declares is set (uncompiled, a forgotten one is missing).
        for field in getattr(owner, "__annotations__", {}):
            assert hasattr(instance, field), f"{name}.__init__ does not set {field}"
    return reads


def test_every_config_field_has_one_owner() -> None:
    # Adding a precomputed value touches _config and the one class that uses it: each Config
    # field is read by exactly one owner (checked on the uncompiled twin, the same source).
    from fastcors._loader import load_pure_python

    twin = load_pure_python()
    config = twin.CORSMiddleware(
        None, allow_origins=["https://a.example"], paths={"/x": None}, report_only=CORSSettings()
    ).config
    reads = _owner_reads(twin, config)
    fields = {field.name for field in dataclasses.fields(Config)} | {"origin_extended"}
    # Not the request path's: what every field was computed for, what only debug mode's messages
    # list, and whether Policy builds a WebSocketGuard at all.
    fields -= {"generation", "allowed_headers", "websocket_guard"}
    for field in sorted(fields):
        owners = [name for name, read in reads.items() if field in read]
        assert len(owners) == 1, f"Config.{field} is read by {owners or 'no owner'}"
    unknown = set().union(*reads.values()) - fields
    assert not unknown, unknown


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(CORSSettings)])
def test_settings_from_arguments_ignores_other_names(name: str) -> None:
    settings = CORSSettings.from_arguments({name: getattr(CORSSettings(), name), "self": object(), "app": None})
    assert settings == CORSSettings()


def test_settings_arguments_build_the_same_settings(impl: ModuleType) -> None:
    settings = CORSSettings(allow_origins=["https://a.example"], max_age=5, websocket_origin_guard=True)
    assert impl.CORSMiddleware(None, **settings.arguments()).settings == settings


def test_validate_raises_what_the_constructor_raises_and_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    good = CORSSettings(allow_origins=["https://a.example"], strict=True)
    assert good.validate() is good
    with pytest.raises(TypeError):
        CORSSettings(allow_origin_regex=b"x").validate()  # type: ignore[arg-type]
    with pytest.raises(CORSConfigError, match="origin-trailing-slash"):
        CORSSettings(allow_origins=["https://a.example/"], strict=True).validate()
    assert CORSSettings(allow_origins=["https://a.example/"]).validate()  # not strict: no error
    assert caplog.records == []
