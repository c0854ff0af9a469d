"""Gitleaks' vendored rules run as gitleaks runs them: keywords, secret group, entropy, allowlists."""

import tomllib

import pytest

from bot import secret_rules
from bot.secret_rules import RULES, SKIPPED, entropy, spans


def _found(text: str) -> list[str]:
    return [text[start:end] for start, end in sorted(set(spans(text)))]


def test_every_rule_but_the_path_only_ones_is_compiled_on_re2():
    every = {rule["id"] for rule in tomllib.loads(secret_rules.RULES_FILE.read_text())["rules"]}

    assert set(SKIPPED) == {"freemius-secret-key", "hashicorp-tf-password", "kubernetes-secret-yaml",
                            "nuget-config-password", "pkcs12-file"}
    assert {rule.id for rule in RULES} == every - set(SKIPPED)
    assert len(secret_rules.every_pattern()) > len(RULES)  # each compiles (allowlists too)


def test_the_vendored_version_and_licence_are_named():
    readme = (secret_rules.RULES_FILE.parent / "README.md").read_text()

    assert "v8.30.1" in readme and "83d9cd684c87d95d656c1458ef04895a7f1cbd8e" in readme
    assert (secret_rules.RULES_FILE.parent / "LICENSE").read_text().startswith("MIT License")


@pytest.mark.parametrize("text, bits", [("", 0), ("aaaa", 0), ("ab", 1), ("abcd", 2), ("aabb", 1)])
def test_entropy_is_gitleaks_shannon_entropy(text, bits):
    assert entropy(text) == pytest.approx(bits)


def test_only_the_secret_group_goes_and_the_label_stays():
    text = "export SONAR_TOKEN=0123456789abcdef0123456789abcdef01234567 # ci"

    assert _found(text) == ["0123456789abcdef0123456789abcdef01234567"]


def test_generic_rule_needs_entropy_so_ordinary_assignments_stay():
    assert _found("api_version = aaaaaaaaaaaa") == []
    assert _found("auth_secret = 'Zx9Qw3Er7Ty1Ui5Op2As'") == ["Zx9Qw3Er7Ty1Ui5Op2As"]


def test_allowlists_let_known_non_secrets_through():
    assert _found("key: ${{ secrets.NPM_TOKEN }}") == []  # the global allowlist
    assert _found("AKIAIOSFODNN7EXAMPLE") == []  # aws-access-token's own (the bot's rules still redact it)


def test_keywords_are_found_where_they_overlap_and_in_any_case():
    slack = "XOXB-1234567890-1234567890123-aBcDeFgHiJkLmNoPqRsTuVwX"

    assert _found("bot " + slack.lower()[:5] + slack[5:]) != []
    assert _found("no keyword here at all, just words") == []


def test_an_allowlist_with_paths_only_never_allows():
    rule = next(rule for rule in RULES if rule.id == "github-pat")

    assert all(a.paths and not a.regexes for a in rule.allowlists)
    assert _found("ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8") == ["ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"]
