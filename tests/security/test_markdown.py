"""Nothing from outside renders live in a comment, proven with GitHub's own renderer (tests/markdown_oracle.py).

Every path that writes outside text into a comment is rendered twice: with hostile text in its
outside fields, and with `x` there. The two must have the same links, images and HTML elements,
and the same mentions and references in the text outside code and links.
"""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest
import yaml
from hypothesis import assume, example, given, strategies as st

from bot.commands import show_log as log_command, replies
from bot.commands.session_text import sessions_table
from bot.commands.dispatch import config_notice
from bot.commands.stop_checks import ADVICE, notice_body
from bot.commands.registry import Invalid, help_table, hint, not_understood
from bot.inert import ZWSP, code_block, code_span, one_line, prose
from bot.logs.render import summary_markdown
from bot.logs.summary import FileActivity, ShellCommand, Sample, Summary
from bot.repo_config import ConfigProblem, read_config as parse_config
from tests.markdown_oracle import assert_inert, live

# The reproduction: an agent's final message that broke out of a code span GitHub pairs across lines.
BREAKOUT = "See `x\n`</details><img src=https://evil.example/p.png> @evil fixes #99`"
# Pieces of markdown that start something live, for the generated texts.
FRAGMENTS = ["`", "``", "```", "~~~", "\\", "\\\\`", "\n", "\r", "\r\n", "\n\n", "    ", " ", "<", ">", "@", "#",
             "_", "*", "[", "]", "(", ")", "!", "|", "-", "=", ":", ".", "&", ";", "x", "1", "GH-1", "@evil",
             "@octo-org/admins", "#99", "octo-org/hello#3", "https://github.com/o/r/issues/1", "www.github.com/o/r/pull/2",
             "https://evil.example/p.png", "foo@bar.com", "![x](https://evil.example/p.png)", "[click](https://evil.example)",
             "<https://evil.example>", "<!--", "-->", "</details>", "<details open>", "<img src=x onerror=alert(1)>",
             "<b>", "&#64;", "&lt;", "- [ ] ", "1. ", "> ", "---", "|a|b|\n|-|-|", "[x]: https://evil.example", ":+1:"]
TAG = re.compile(r"<([a-z][a-z0-9]*)")
HOSTILE = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=40).map("".join)
REPRODUCTIONS = [BREAKOUT, "![x](https://evil.example/p.png)", "[click](https://evil.example/phish)",
                 "_https://github.com/o/r/issues/1_", "www.github.com/o/r/pull/2", "a `b\nc` <b>@x</b>",
                 "\\`<img src=x>`", "\\\\`code` @evil", "x\n```\n@evil\n```\n@evil <img src=y>"]


def summary_of(text: str) -> Summary:
    """A summary whose every text holds `text` (the outside fields of a `/session log` reply)."""
    command = ShellCommand(text, text, 1, test=True, failed=True, excerpt=text)
    return Summary(models=[text], requests=1, progress=Sample([text], [text], 3), pr_description=text, pr_title=text,
                   setup=[text], files=[FileActivity(text, reads=1), FileActivity(text + "1", edits=2, created=True)],
                   commands=Sample([command], [], 1), tests=Sample([command], [], 1), failures=Sample([command], [], 1),
                   tools={text: 2}, final_message=text, finished=True, errors=Sample([text], [], 1))


def log_reply(text: str) -> str:
    return summary_markdown(summary_of(text), state="completed", duration=60, run_url="https://github.com/o/r/actions/runs/1",
                  log_url="https://github.com/o/r/actions/runs/1", full=True)


def progress_reply(text: str) -> str:
    class Client:
        def paginate(self, path):
            return [{"commit": {"message": f"{text}\n\nbody"}}, {"commit": {"message": text}}]

        def get(self, path):
            return {"body": f"- [x] {text}\n- [ ] {text}\n* [X] {text}"}

    session = SimpleNamespace(number=1, state="in_progress", repository="o/r", pr_number=7, started_at=time.time(),
                              created_at=time.time(), finished_at=None)
    return log_command.progress_so_far(Client(), session)


def command_reply(text: str) -> str:
    run = SimpleNamespace(text="/session " + text, comment_id=1, position=0, sender_login="hubot")
    return replies.reply_body(run, "I did not understand that.")


def config_reply(text: str) -> str:
    problems = []
    for file in (yaml.safe_dump({text: 1, "also" + text: 2}), text, f"prefix: {text}\n"):
        try:
            parse_config(file)
            problems.append("fine")
        except ConfigProblem as exc:
            problems.append(str(exc))
    return "\n\n".join(config_notice(problem) for problem in problems)


def prefix_reply(text: str) -> str:
    """A repository's prefix (from its config file) in the help, the unknown-command reply and the status hint."""
    try:
        prefix = parse_config(f"prefix: {yaml.safe_dump(text)}").prefix
    except ConfigProblem:
        prefix = "/session"
    return "\n\n".join([help_table(prefix), not_understood(Invalid("that is not a command"), prefix), hint(prefix)])


def error_line(text: str) -> str:
    return f"- {one_line(text, 300)}\n\n{prose(text)}"


def sessions_table_reply(text: str) -> str:
    """`/session list` and the status comment: who started each session, and who stopped it."""
    session = SimpleNamespace(number=1, state="in_progress", run_attempt=1, html_url="https://github.com/o/r/actions/runs/1",
                              job_id=2, starter=text, created_at=time.time(), started_at=time.time(), finished_at=None,
                              run_id=1)
    return sessions_table([session, session], time.time(), highlight_running=True,
                          stops={1: (text, "page", "cancel_requested", text)})


def stop_notice(text: str) -> str:
    """The notice of a stop GitHub did not confirm: the stop's reason, and a stopper who is not a login
    (logins come from GitHub; one that could be mentioned is, as a notice means to)."""
    session = SimpleNamespace(number=1, starter="monalisa", html_url="https://github.com/o/r/actions/runs/1")
    stops = [SimpleNamespace(stopped_by="hubot", via="comment", reason=text),
             SimpleNamespace(stopped_by="!" + text, via="page", reason=text)]
    return "\n\n".join(notice_body(stop, session, outcome) for stop in stops for outcome in ADVICE)


PATHS = [log_reply, progress_reply, command_reply, config_reply, prefix_reply, error_line, sessions_table_reply,
         stop_notice]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("text", REPRODUCTIONS)
def test_the_reproductions_render_nothing_live(path, text):
    assert_inert(path(text), path("x"))


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.__name__)
@given(text=HOSTILE)
@example(text=BREAKOUT)
def test_generated_text_renders_nothing_live_on_any_path(path, text):
    assume(text)  # an empty field drops its part of a comment: nothing to compare
    assert_inert(path(text), path("x"))


@given(text=HOSTILE)
@example(text=BREAKOUT)
def test_one_line_renders_as_text_and_code_and_prose_adds_only_lines_headings_lists_and_quotes(text):
    assert tags(one_line(text)) <= {"p", "code"}
    assert tags(prose(text)) <= {"p", "br", "pre", "code", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li",
                                 "blockquote"}


def tags(markdown: str) -> set[str]:
    from tests.markdown_oracle import render as to_html
    return set(TAG.findall(to_html(markdown)))


def test_the_oracle_sees_what_the_old_escaping_let_through():
    # What the bot posted before: a code span left raw, paired line by line, so GitHub closed it early.
    old = "See `x\n`&lt;/details&gt;..."
    assert live(BREAKOUT).images == ["https://evil.example/p.png"] and live(BREAKOUT).mentions
    assert live("_https://github.com/o/r/issues/1_").links and live("www.github.com/o/r/pull/2").links
    assert not live(old).images


def test_escaped_text_reads_the_same():
    text = "Fixed `parse()` in *src/app.py* — see [docs](https://example.com) & ask @octocat about #12 <3"
    rendered = live(one_line(text))
    assert rendered.links == [] and rendered.mentions == [] and rendered.references == []
    from tests.markdown_oracle import render as to_html
    assert to_html(one_line(text)).replace(ZWSP, "") == \
        "<p>Fixed <code>parse()</code> in *src/app.py* — see [docs](https://example.com) &amp; ask @octocat about #12 &lt;3</p>\n"


def test_the_agents_code_blocks_stay_code_blocks_and_what_follows_them_is_escaped():
    from tests.markdown_oracle import render as to_html
    text = "Ran:\n```python\nprint('@x')\n````\n@evil <img src=y>\n~~~\nunclosed `@x`"

    html = to_html(prose(text))

    assert "<pre lang=\"python\"><code>print('@x')\n</code></pre>" in html
    assert "<pre><code>unclosed `@x`\n</code></pre>" in html
    assert live(prose(text)).mentions == [] and live(prose(text)).images == []


@pytest.mark.parametrize("text", ["a`b", "`x`", "two\nlines", "ok\r```\r@octocat", "````\r\n</details>"])
def test_code_spans_and_blocks_hold_whatever_is_inside(text):
    for made in (code_span(text), code_block(text)):
        assert_inert(made, code_span("x") if made.startswith("`") and "\n" not in made else code_block("x"))
