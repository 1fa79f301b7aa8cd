"""Loading config/policy.toml: every problem names the file, the dotted key and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.errors import ConfigError
from proxy.model import PolicyMode
from proxy.policy.policy_file import load_policy, policy_version

REPO = Path(__file__).resolve().parents[2]
CONTROLLER = """
[controllers.acme]
legal_name = "Acme SAS"
postal_address = "1 rue de la Paix, Paris"
domains = ["acme.fr"]
privacy_url = "https://acme.fr/privacy"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    return [(p.source, p.key, p.message) for p in info.value.problems]


def test_shipped_example_loads() -> None:
    policy = load_policy(REPO / "config" / "policy.toml")
    assert policy.mode is PolicyMode.ENFORCE
    assert policy.compiled.default_controller == "example"
    assert "spring-running" in policy.campaigns


def test_minimal_policy(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, CONTROLLER))
    assert policy.compiled.default_controller == "acme"
    assert policy.language("DE") in ("de", "en")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    assert problems(path) == [(str(path), "", "policy file not found")]


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, CONTROLLER + 'mode = "enforce"\nbroken line\n')
    [(source, key, message)] = problems(path)
    assert source == str(path) and key == ""
    assert message.startswith("line 8, column") and "TOML syntax error" in message


def test_every_shape_problem_is_reported(tmp_path: Path) -> None:
    text = (
        'mode = "loud"\ncolour = "red"\n'
        + CONTROLLER
        + """
[retention]
prospect_months = 0
[classification]
unknown_kind = "alien"
"""
    )
    found = {key: message for _, key, message in problems(write(tmp_path, text))}
    assert set(found) == {
        "mode",
        "colour",
        "retention.prospect_months",
        "classification.unknown_kind",
    }
    assert found["colour"] == "unknown key"
    assert "enforce" in found["mode"]


def test_controllers_required(tmp_path: Path) -> None:
    [(_, key, message)] = problems(write(tmp_path, 'mode = "monitor"\n'))
    assert key == "controllers" and "required" in message.lower()


def test_controller_missing_field(tmp_path: Path) -> None:
    text = '[controllers.acme]\nlegal_name = "Acme"\ndomains = ["acme.fr"]\n'
    keys = {key for _, key, _ in problems(write(tmp_path, text))}
    assert keys == {"controllers.acme.postal_address", "controllers.acme.privacy_url"}


def test_cross_field_problems_each_get_a_key(tmp_path: Path) -> None:
    text = (
        CONTROLLER
        + """
[controllers.sister]
legal_name = "Sister"
postal_address = "Lyon"
domains = ["acme.fr"]
privacy_url = "https://sister.fr/p"
[campaigns.spring]
controller = "ghost"
[countries.france]
soft_optin = false
[languages]
FR = "xx"
"""
    )
    found = {key: message for _, key, message in problems(write(tmp_path, text))}
    assert "exactly one controller" in found["controllers"]
    assert "acme.fr also belongs" in found["controllers.sister.domains"]
    assert "unknown controller 'ghost'" in found["campaigns.spring.controller"]
    assert "ISO 3166" in found["countries.france"]
    assert "[footer.xx]" in found["languages.FR"]


def test_unknown_footer_placeholder(tmp_path: Path) -> None:
    text = (
        CONTROLLER
        + """
[footer.fr]
text = "Hello {first_name}"
html = "<p>{legal_name}</p>"
notice_text = "{source}"
notice_html = "{source}"
"""
    )
    [(_, key, message)] = problems(write(tmp_path, text))
    assert key == "footer.fr.text"
    assert "unknown placeholder {first_name}" in message


def test_bad_regex(tmp_path: Path) -> None:
    text = 'deceptive_subjects = ["ok", "(unclosed"]\n' + CONTROLLER
    [(_, key, message)] = problems(write(tmp_path, text))
    assert key == "deceptive_subjects.1"
    assert "invalid regular expression" in message


def test_user_footer_overrides_one_language(tmp_path: Path) -> None:
    text = (
        CONTROLLER
        + """
[footer.it]
text = "Messaggio commerciale di {legal_name}. {unsubscribe_url}"
html = "<p>{legal_name}</p>"
notice_text = "{source}"
notice_html = "{source}"
[languages]
CH = "it"
"""
    )
    policy = load_policy(write(tmp_path, text))
    assert policy.language("IT") == "it" and policy.language("CH") == "it"
    assert "en" in policy.compiled.footers


def test_version_is_stable_and_content_sensitive(tmp_path: Path) -> None:
    first = policy_version(load_policy(write(tmp_path, CONTROLLER)))
    again = policy_version(load_policy(write(tmp_path, "\n# comment\n" + CONTROLLER)))
    other = policy_version(load_policy(write(tmp_path, 'mode = "monitor"\n' + CONTROLLER)))
    assert first == again != other
    assert len(first) == 12


def test_idn_controller_domain_is_normalised(tmp_path: Path) -> None:
    text = CONTROLLER.replace('"acme.fr"', '"Müller.DE"')
    policy = load_policy(write(tmp_path, text))
    assert policy.controllers["acme"].domains == ("xn--mller-kva.de",)


def test_transactional_clients_split_into_users_and_networks(tmp_path: Path) -> None:
    text = CONTROLLER + '[transactional]\nclients = ["shop", "10.0.0.0/8", "::1"]\n'
    compiled = load_policy(write(tmp_path, text)).compiled
    assert compiled.tx_users == frozenset({"shop"})
    assert len(compiled.tx_networks) == 2


def test_scraped_b2b_switch_names_each_bad_country(tmp_path: Path) -> None:
    text = CONTROLLER + 'scraped_b2b_countries = ["FR", "fr", "STRICT"]\n'
    found = {key: message for _, key, message in problems(write(tmp_path, text))}
    assert set(found) == {
        "controllers.acme.scraped_b2b_countries.1",
        "controllers.acme.scraped_b2b_countries.2",
    }
    assert "ISO 3166" in found["controllers.acme.scraped_b2b_countries.1"]
    loaded = load_policy(write(tmp_path, CONTROLLER + 'scraped_b2b_countries = ["FR"]\n'))
    assert loaded.controllers["acme"].scraped_b2b_countries == ("FR",)
