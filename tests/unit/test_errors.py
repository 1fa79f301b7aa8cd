"""The exception tree of proxy/errors.py is complete and true: every exception class the
relay defines is in it (public ones under RelayError, private ones caught where raised), and
every class in it is raised somewhere."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from sqlalchemy import exc as sa

import proxy
from proxy import errors
from proxy.store.guard import store_errors

PROXY = Path(proxy.__file__).parent
_SKIPPED = ("proxy.__main__", "proxy.store.migrations")  # entry point; Alembic scripts


def _modules() -> list[str]:
    names = [
        info.name
        for info in pkgutil.walk_packages([str(PROXY)], prefix="proxy.")
        if not info.name.startswith(_SKIPPED)
    ]
    assert len(names) > 50  # the walk found the package
    return names


def _defined_exceptions() -> dict[str, type[BaseException]]:
    """Every exception class defined in a proxy module, by qualified name."""
    found: dict[str, type[BaseException]] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == name:
                found[f"{name}.{value.__name__}"] = value
    return found


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(), str(path)) for path in PROXY.rglob("*.py")}


def _name(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _raised(tree: ast.Module) -> set[str]:
    return {
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Raise) and (name := _name(node.exc)) is not None
    }


def _caught(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            names.update(name for t in types if (name := _name(t)) is not None)
    return names


EXCEPTIONS = _defined_exceptions()
PUBLIC = {k: v for k, v in EXCEPTIONS.items() if not v.__name__.startswith("_")}
PRIVATE = {k: v for k, v in EXCEPTIONS.items() if v.__name__.startswith("_")}


@pytest.mark.parametrize("qualname", sorted(PUBLIC))
def test_every_public_exception_is_in_the_tree(qualname: str) -> None:
    cls = PUBLIC[qualname]
    assert cls.__module__ == "proxy.errors", f"{qualname}: define it in proxy/errors.py"
    assert issubclass(cls, errors.RelayError)
    assert cls.__name__ in errors.__all__
    assert f"- {cls.__name__}" in (errors.__doc__ or ""), "add it to the tree in the docstring"
    assert cls.__doc__, "say what it means"


@pytest.mark.parametrize("qualname", sorted(PRIVATE))
def test_a_private_exception_never_leaves_its_module(qualname: str) -> None:
    cls = PRIVATE[qualname]
    module_file = Path(inspect.getfile(cls))
    tree = ast.parse(module_file.read_text())
    assert cls.__name__ in _raised(tree)
    assert cls.__name__ in _caught(tree), f"{qualname} escapes its module"
    short = f"{cls.__module__.removeprefix('proxy.')}.{cls.__name__}".replace(".", "")
    assert short in (errors.__doc__ or "").replace(".", "").replace("\n", "").replace(" ", "")


def test_every_class_of_the_tree_is_raised_somewhere() -> None:
    raised = set().union(*(_raised(tree) for tree in _trees().values()))
    tree_classes = [
        name
        for name in errors.__all__
        if isinstance(cls := getattr(errors, name), type)
        and issubclass(cls, BaseException)
        and cls is not errors.RelayError
    ]
    assert len(tree_classes) >= 9
    assert [name for name in tree_classes if name not in raised] == []


def test_every_raised_project_exception_is_known() -> None:
    """A `raise SomeError` naming a class this package defines names one found above."""
    known = {cls.__name__ for cls in EXCEPTIONS.values()}
    defined_here = {
        node.name
        for tree in _trees().values()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }
    raised = set().union(*(_raised(tree) for tree in _trees().values()))
    assert sorted((raised & defined_here) - known) == []


def test_the_database_translator_is_the_only_place_naming_driver_errors() -> None:
    """One translator: no other module catches SQLAlchemy's or the drivers' errors."""
    driver_errors = {"SQLAlchemyError", "OperationalError", "InterfaceError", "DBAPIError"}
    catching = sorted(
        str(path.relative_to(PROXY))
        for path, tree in _trees().items()
        if _caught(tree) & driver_errors
    )
    assert catching == ["store/guard.py"]


@pytest.mark.parametrize(
    ("error", "message", "transient"),
    [
        (sa.OperationalError("SELECT", {}, Exception("connection refused\nmore")), "refused", True),
        (sa.IntegrityError("INSERT", {}, Exception("NOT NULL constraint failed")), "NOT", False),
        (ConnectionResetError("reset by peer"), "reset by peer", True),
        (TimeoutError(), "did not answer in time", True),
    ],
)
def test_store_errors_says_what_failed_and_whether_a_retry_can_help(
    error: Exception, message: str, transient: bool
) -> None:
    with pytest.raises(errors.StoreUnavailable) as raised, store_errors("reading a contact"):
        raise error
    assert str(raised.value).startswith("reading a contact: ")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)  # one line for the CLI and the logs
    assert raised.value.transient is transient


def test_store_errors_lets_other_exceptions_through() -> None:
    with pytest.raises(ValueError, match="a hash must be"), store_errors("reading"):
        raise ValueError("a hash must be 64 hexadecimal characters")
