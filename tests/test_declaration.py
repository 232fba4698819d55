"""Each argument is declared once, in CORSSettings: the signatures users see must match it,
and every precomputed Config field must reach the compiled Policy."""

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
    }
    assert set(given) == {field.name for field in dataclasses.fields(CORSSettings)}, "a new argument: add it here"
    settings = impl.CORSMiddleware(None, **given).settings
    assert {name: getattr(settings, name) for name in given} == given


def test_every_config_field_reaches_the_policy() -> None:
    # Checked on the uncompiled twin, whose attributes Python can see; the compiled Policy is
    # the same source. A typed field that __init__ forgot to copy would read as False there.
    from fastcors._loader import load_pure_python

    twin = load_pure_python()
    typed = twin.Policy.__annotations__
    policy = twin.CORSMiddleware(None, allow_origins=["https://a.example"]).policy
    # Fields the Policy holds in another shape, under other names.
    # (The allowed headers reach it as the tables of the requested-headers scan.)
    reshaped = {
        "paths": ("path_prefixes", "path_policies"),
        "allowed_headers": ("header_scan",),
        "header_names": ("header_scan",),
    }
    for field in dataclasses.fields(Config):
        for name in reshaped.get(field.name, (field.name,)):
            assert name in typed, f"Policy does not declare Config.{field.name} (as {name})"
            assert hasattr(policy, name), f"Policy.__init__ does not copy Config.{field.name} (as {name})"


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
