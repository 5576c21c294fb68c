"""Each person sees only the documents they may read: a real nginx in front (basic sign-in, its
users mapped to groups, the identity passed in headers), the real server behind it, a real index
labelled by an access file; tokens through the real CLI.

nginx is Debian's (`.ci/run` installs it); without it the nginx tests skip and say why.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from conftest import ThreadedUvicorn, free_port, stop_process, wait_for_http

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
PROXY_ADDRESS = "127.0.0.2"
"""nginx talks to the server from this loopback address (``proxy_bind``), the only trusted one;
the tests' own direct requests come from 127.0.0.1, like any other machine's would."""

USERS = {"alice": ("alice-pw", "hr"), "bob": ("bob-pw", "board")}
"""nginx users: password and the group nginx passes for them."""

# Invented names and figures (nothing else in the index mentions them), so an answer quoting a
# restricted document is recognisable. Each fact is a sentence; each question's answer is only in it.
HR_PEOPLE = ["Quendolyn Marsh", "Tobiah Frell", "Ysolde Kartan", "Brannoc Weir", "Maelis Dorrow", "Corvin Ashlund",
             "Perrin Vaskel", "Idony Stroud", "Halvard Quist", "Oriel Fenwick", "Sabeth Morrow", "Ulric Tamsin",
             "Wenna Coble", "Evander Lusk", "Rosamund Pike-Hale", "Taddeo Brisk", "Gwenllian Oake", "Lucan Merriweather",
             "Ottilie Varga", "Ambrose Kettering", "Delphine Astor", "Hamish Orrell", "Isaura Dent", "Jory Pendleton",
             "Kestrel Vane", "Linnea Royce", "Mordecai Flint", "Nerys Calloway", "Osric Penhallow", "Philippa Strand"]
BOARD_COMPANIES = ["Zantrex Dynamics", "Quorvath Mills", "Elbrisk Foods", "Torvane Shipping", "Myrrhwood Labs", "Caskadia Glass",
                   "Vellmore Mining", "Durrant Optics", "Ashgrove Textiles", "Pellucid Robotics", "Orrin Freight", "Kestova Paper",
                   "Brimlow Energy", "Saffra Biotech", "Thornquill Press", "Umbrel Ceramics", "Wrenfield Data", "Yarrowby Dairy",
                   "Galvane Steel", "Harrowgate Instruments", "Lumenrise Solar", "Marlcote Cement", "Nettlebay Fisheries",
                   "Obsidian Lane Tools", "Pinfold Aviation", "Quillon Furniture", "Rookery Software", "Stellan Marine",
                   "Tidewell Water", "Varrick Plastics"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


def hr_fact(i: int, name: str) -> tuple[str, str, str]:
    amount = f"{41_300 + 1_117 * i:,} euros"
    return (f"The settlement agreed with {name} after the grievance hearing is {amount}, paid in {MONTHS[i % 12]}.",
            f"What settlement was agreed with {name}?", amount)


def board_fact(i: int, company: str) -> tuple[str, str, str]:
    amount = f"{212 + 7 * i} million dollars"
    return (f"The board approved the acquisition of {company} for {amount} at its {MONTHS[i % 12]} meeting.",
            f"For how much did the board approve buying {company}?", amount)


HR = [hr_fact(i, n) for i, n in enumerate(HR_PEOPLE)]
BOARD = [board_fact(i, c) for i, c in enumerate(BOARD_COMPANIES)]
PUBLIC_FACT = ("The canteen on the ground floor opens at 7:30 every weekday morning.", "When does the canteen open?")


def _docs(facts: list[tuple[str, str, str]], title: str, per_doc: int = 5) -> list[tuple[str, str]]:
    """(title, text) of documents holding ``per_doc`` facts each."""
    out = []
    for n in range(0, len(facts), per_doc):
        body = "\n\n".join(f[0] for f in facts[n : n + per_doc])
        out.append((f"{title} {n // per_doc + 1}", f"{title} {n // per_doc + 1}\n\n{body}\n"))
    return out


ACCESS = "# who reads what\nhr/**: hr\nboard/**: board\npublic/**: everyone\n"


@pytest.fixture(scope="module")
def labelled(tmp_path_factory, embedder):
    """A real index of HR cases (group hr), board minutes (group board), a public notice
    (everyone) and a stray file no rule matches, labelled by an access file."""
    from assistant.core import Assistant
    from assistant.settings import Settings

    root = tmp_path_factory.mktemp("access")
    docs = root / "docs"
    files = {}
    for folder, facts, title in (("hr", HR, "Grievance case file"), ("board", BOARD, "Board minutes")):
        for n, (t, text) in enumerate(_docs(facts, title), start=1):
            files[f"{folder}/case-{n}.txt" if folder == "hr" else f"{folder}/minutes-{n}.txt"] = (t, text)
    files["public/canteen.txt"] = ("Canteen notice", f"Canteen notice\n\n{PUBLIC_FACT[0]}\n")
    files["stray.txt"] = ("Stray memo", "Stray memo\n\nThe stray memo mentions the Ferncastle audit of the loading bay.\n")
    for name, (_, text) in files.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text, encoding="utf-8")
    (root / "access.txt").write_text(ACCESS, encoding="utf-8")
    settings = Settings(data_dir=root / "data", access_file=root / "access.txt")
    a = Assistant(settings, settings.open_store(), embedder)
    report = a.index([docs], progress=False)
    return {"assistant": a, "report": report, "files": files, "root": root, "docs": docs}


def restricted(labelled, group: str) -> list[str]:
    """Strings that must never reach a reader outside ``group``: every fact sentence, answer
    figure, title and document id of that group's documents."""
    facts = HR if group == "hr" else BOARD
    folder = "hr/" if group == "hr" else "board/"
    out = [f[0] for f in facts] + [f[2] for f in facts]
    for doc_id, (title, _) in labelled["files"].items():
        if doc_id.startswith(folder):
            out += [doc_id, title]
    return out


def leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


# -- labels at indexing ------------------------------------------------------------------------


def test_each_document_is_labelled_and_an_unmatched_one_is_named_and_readable_by_nobody(labelled):
    a, report = labelled["assistant"], labelled["report"]
    groups = {r.doc_id: r.groups for r in a.catalog()}
    assert groups["hr/case-1.txt"] == ("hr",) and groups["board/minutes-1.txt"] == ("board",)
    assert groups["public/canteen.txt"] == ("everyone",) and groups["stray.txt"] == ()
    assert report.unreadable == ("stray.txt",) and "readable by nobody (no access rule matches): stray.txt" in report.describe()
    for reader in (frozenset({"hr", "everyone"}), frozenset({"board", "everyone"}), frozenset({"everyone"})):
        assert "stray.txt" not in a.visible_documents(reader)
    answer = a.ask("What does the stray memo mention?", groups=frozenset({"hr", "board", "everyone"}))
    assert "Ferncastle" not in json.dumps(answer.to_dict())


def test_a_group_reads_its_own_documents_and_the_same_question_gets_another_answer_elsewhere(labelled):
    a = labelled["assistant"]
    sentence, question, amount = HR[3]
    alice = a.ask(question, groups=frozenset({"hr", "everyone"}))
    assert not alice.abstained and amount in alice.text
    bob = a.ask(question, groups=frozenset({"board", "everyone"}))
    assert bob.abstained and not leaks(json.dumps(bob.to_dict()), restricted(labelled, "hr"))


def test_an_unreadable_document_is_answered_exactly_as_one_that_does_not_exist(labelled, tmp_path, embedder):
    """Bob's answers over the whole index equal the answers of an index holding only what he may read."""
    from conftest import assistant_over

    a, files = labelled["assistant"], labelled["files"]
    mine = {doc_id.replace("/", "__"): text for doc_id, (_, text) in files.items() if doc_id.startswith(("board/", "public/"))}
    only_bobs = assistant_over(tmp_path, embedder, mine)
    for _, question, _ in HR[:8]:
        got = a.ask(question, groups=frozenset({"board", "everyone"}))
        alone = only_bobs.ask(question)
        assert (got.abstained, got.text, got.abstain_reason) == (alone.abstained, alone.text, alone.abstain_reason), question
    with pytest.raises(Exception) as hidden:
        a.ask(PUBLIC_FACT[1], documents=["hr/case-1.txt"], groups=frozenset({"board", "everyone"}))
    with pytest.raises(Exception) as missing:
        a.ask(PUBLIC_FACT[1], documents=["hr/case-99.txt"], groups=frozenset({"board", "everyone"}))
    assert str(hidden.value).replace("case-1", "case-99") == str(missing.value) and "hr/case-2" not in str(hidden.value)


def test_changing_the_access_file_relabels_without_embedding_and_a_bad_line_keeps_the_old_rules(tmp_path, embedder):
    from assistant.core import Assistant
    from assistant.settings import Settings
    from index.access import AccessFileError

    (tmp_path / "docs" / "hr").mkdir(parents=True)
    (tmp_path / "docs" / "hr" / "pay.txt").write_text("Pay bands\n\nGrade seven pays 61,000 euros a year.\n", encoding="utf-8")
    (tmp_path / "docs" / "notice.txt").write_text("Notice\n\nThe lifts are serviced on Mondays.\n", encoding="utf-8")
    access = tmp_path / "access.txt"
    access.write_text("hr/**: hr\n**: everyone\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", access_file=access)
    a = Assistant(settings, settings.open_store(), embedder)
    a.index([tmp_path / "docs"], progress=False)
    assert a.visible_documents({"everyone"}) == {"notice.txt"}

    access.write_text("hr/**: hr, staff\n**: everyone\n", encoding="utf-8")
    report = a.index(progress=False)
    assert report.rebuilt and report.embedded_passages == 0 and report.relabelled == ("hr/pay.txt",)
    assert "re-labelled" in report.describe() and a.visible_documents({"staff"}) == {"hr/pay.txt"}

    build = a.build.build_id
    access.write_text("hr/**: hr, staff\nboard/** board\n**: everyone\n", encoding="utf-8")
    with pytest.raises(AccessFileError) as bad:
        a.index(progress=False)
    message = str(bad.value)
    assert "\n" not in message and "line 2" in message and "board/** board" in message and "previous rules" in message
    assert a.build.build_id == build and a.visible_documents({"staff"}) == {"hr/pay.txt"}


@pytest.mark.unit
def test_odd_group_names_in_the_access_file_are_refused_with_the_line():
    from index.access import AccessFileError, parse_access_rules

    with pytest.raises(AccessFileError, match=r"line 3 .*'h r' is not a group name"):
        parse_access_rules("# c\n\nhr/**: h r\n")
    with pytest.raises(AccessFileError, match="no rule"):
        parse_access_rules("# nothing\n")
    rules = parse_access_rules("hr/**: hr\n**: everyone\n")
    assert rules.groups_for("hr/a/b.md") == ("hr",) and rules.groups_for("hr.md") == ("everyone",)


def test_eval_as_a_group_equals_eval_scoped_to_that_groups_documents(labelled, tmp_path):
    """``assistant eval --as-group hr`` against the same set with every question limited (``--doc``
    scoping, ``EvalQuestion.documents``) to the documents hr may read: the same metrics."""
    from dataclasses import replace

    from assistant.evaluation import run_eval
    from assistant.evaluation.question_sets import load_questions

    a = labelled["assistant"]
    lines = [{"question": q, "evidence": [s], "answer": amount} for s, q, amount in HR[:10]]
    lines += [{"question": q, "evidence": []} for _, q, _ in BOARD[:5]]  # not answered for hr: the board's are hidden
    path = tmp_path / "hr.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    as_hr = a.as_reader(frozenset({"hr", "everyone"}))
    by_access = run_eval(as_hr, load_questions(path, as_hr.documents()), name="hr")
    visible = tuple(sorted(a.visible_documents({"hr", "everyone"})))
    scoped = [replace(q, documents=visible) for q in load_questions(path, a.documents())]
    by_doc = run_eval(a, scoped, name="hr")
    quality = lambda summary: {k: v for k, v in summary.items() if not k.startswith("latency")}  # noqa: E731
    assert quality(by_access.summary) == quality(by_doc.summary)
    assert [r.answer.text for r in by_access.results] == [r.answer.text for r in by_doc.results]
    assert by_access.summary["abstention_accuracy"] == 1.0


# -- a real nginx in front -------------------------------------------------------------------


NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 128; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    map $remote_user $groups {{ default ""; {groups} }}
    server {{
        listen 127.0.0.1:{port};
        auth_basic "intranet";
        auth_basic_user_file {tmp}/htpasswd;
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_bind {proxy};
            proxy_set_header X-Forwarded-User $remote_user;
            proxy_set_header X-Forwarded-Groups $groups;
            proxy_set_header Host $host;
            proxy_http_version 1.1;
            proxy_buffering off;
        }}
    }}
}}
"""


@pytest.fixture(scope="module")
def behind_nginx(labelled, tmp_path_factory):
    """The server (auth_mode proxy, trusting only nginx's address) and nginx in front of it,
    signing users in with basic auth and passing their group; yields nginx's URL."""
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian package nginx; .ci/run installs it)")
    from ui.server import create_app

    a = labelled["assistant"]
    settings = a.settings.replace(auth_mode="proxy", trusted_proxies=[PROXY_ADDRESS])
    tmp = tmp_path_factory.mktemp("nginx")
    (tmp / "htpasswd").write_text("".join(f"{u}:{{PLAIN}}{pw}\n" for u, (pw, _) in USERS.items()), encoding="utf-8")
    with ThreadedUvicorn(create_app(a, settings), free_port()) as server:
        port = free_port()
        groups = " ".join(f"{u} {g};" for u, (_, g) in USERS.items())
        conf = NGINX_CONF.format(tmp=tmp, port=port, upstream=server.port, proxy=PROXY_ADDRESS, groups=groups)
        (tmp / "nginx.conf").write_text(conf, encoding="utf-8")
        proc = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        why = wait_for_http(url + "/healthz", proc, 20, interval=0.1)
        if why:
            proc.kill()
            pytest.skip(f"nginx did not start ({why}): {proc.stderr.read().decode(errors='replace')[-400:]}")
        yield {"url": url, "direct": server.url, "tmp": tmp}
        stop_process(proc, 10)


def auth(user: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{USERS[user][0]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_nginx_signs_users_in_and_each_sees_only_their_documents(behind_nginx, labelled):
    url = behind_nginx["url"]
    assert httpx.get(url + "/healthz").status_code == 401  # nginx: not signed in
    health = {u: httpx.get(url + "/healthz", headers=auth(u)).json() for u in USERS}
    assert health["alice"]["documents"] == health["bob"]["documents"] == 7  # six own + the public notice
    sentence, question, amount = HR[0]
    alice = httpx.post(url + "/api/ask", json={"question": question}, headers=auth("alice")).json()
    bob = httpx.post(url + "/api/ask", json={"question": question}, headers=auth("bob")).json()
    assert amount in alice["answer"] and alice["citations"][0]["doc_id"] == "hr/case-1.txt"
    assert bob["abstained"] and not leaks(json.dumps(bob), restricted(labelled, "hr"))
    for user in USERS:
        public = httpx.post(url + "/api/ask", json={"question": PUBLIC_FACT[1]}, headers=auth(user)).json()
        assert "7:30" in public["answer"], public


def _gradio_ask(client, question: str) -> str:
    return json.dumps(client.predict(question, [], None, api_name="/ask"), ensure_ascii=False)


class GradioPage:
    """The chat (``base`` "") or the widget (``base`` "/widget") driven as its page drives it:
    events joined to Gradio's queue, their result read from the event stream."""

    def __init__(self, http: httpx.Client, base: str) -> None:
        self.http, self.base = http, base
        self.config = http.get(base + "/config").json()
        self.text = http.get(base + "/").text + json.dumps(self.config)

    def event(self, api_name: str, *values) -> str:
        import uuid

        dep = next(d for d in self.config["dependencies"] if d.get("api_name") == api_name)
        data = [*values, *[None] * (len(dep["inputs"]) - len(values))]
        session = uuid.uuid4().hex
        target = dep["targets"][0][0] if dep.get("targets") else None
        joined = self.http.post(f"{self.base}/gradio_api/queue/join",
                                json={"data": data, "fn_index": dep["id"], "session_hash": session, "event_data": None, "trigger_id": target})
        assert joined.status_code == 200, joined.text
        with self.http.stream("GET", f"{self.base}/gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:") and json.loads(line[5:]).get("msg") == "process_completed":
                    return line
        raise AssertionError(f"no result for {api_name} on {self.base or '/'}")


def test_the_chat_and_the_widget_answer_each_user_from_their_own_documents(behind_nginx, labelled):
    """The same question in the chat and the widget behind nginx: alice (hr) gets the answer,
    bob (board) is told the documents do not answer; neither page names the other's documents."""
    url = behind_nginx["url"]
    sentence, question, amount = HR[1]
    for base in ("", "/widget"):
        with httpx.Client(base_url=url, headers=auth("alice"), timeout=60) as http:
            page = GradioPage(http, base)
            assert amount in page.event("respond", question)
            listing = page.event("placeholder")
            assert "Grievance case file 1" in listing and "Board minutes" not in listing
        with httpx.Client(base_url=url, headers=auth("bob"), timeout=60) as http:
            page = GradioPage(http, base)
            got = page.event("respond", question)
            assert "do not answer" in got and not leaks(got, restricted(labelled, "hr"))
            assert not leaks(page.text, restricted(labelled, "hr")) and not leaks(page.text, restricted(labelled, "board"))


def test_no_endpoint_leaks_another_groups_documents(behind_nginx, labelled):
    """30 questions per group answered only by that group's documents, asked by the other group's
    user of every endpoint: the JSON and streamed API, a follow-up, the Gradio /ask endpoint, the
    chat and the widget (their pages, document lists and answers), with the restricted ids as
    scope, the source views, the health counts and feedback naming them. Nothing of theirs comes back."""
    from gradio_client import Client

    url = behind_nginx["url"]
    asked = 0
    for user, other, facts in (("alice", "board", BOARD), ("bob", "hr", HR)):
        secrets = restricted(labelled, other)
        ids = [d for d in labelled["files"] if d.startswith(other + "/")]
        headers = auth(user)
        client = Client(url + "/", headers=headers, verbose=False)
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            pages = [GradioPage(http, "/"[:0]), GradioPage(http, "/widget")]  # the chat and the widget
            seen = [json.dumps(http.get("/healthz").json()), *(p.text for p in pages), *(p.event("placeholder") for p in pages)]
            for _, question, _ in facts:
                seen.append(http.post("/api/ask", json={"question": question}).text)
                seen.append(http.post("/api/ask", params={"stream": "true"}, json={"question": question}).text)
                seen.append(http.post("/api/ask", json={"question": "What did they agree?", "history": [question]}).text)
                seen.append(_gradio_ask(client, question))
                for page in pages:
                    seen.append(page.event("respond", question))
                asked += 1
            for doc_id in ids:
                hidden = http.post("/api/ask", json={"question": facts[0][1], "documents": [doc_id]})
                missing = http.post("/api/ask", json={"question": facts[0][1], "documents": [doc_id + ".missing"]})
                assert hidden.status_code == missing.status_code == 422
                assert hidden.json()["error"] == missing.json()["error"].replace(doc_id + ".missing", doc_id)
                for path in (f"/sources/{doc_id}", f"/sources/{doc_id}?start=0&end=10", f"/source-pages/1/{doc_id}", f"/source-status/{doc_id}"):
                    got = http.get(path)
                    assert got.status_code == 404
                    seen.append(got.text.replace(doc_id, ""))  # the URL's own id aside
                cited = {"doc_id": doc_id, "start": 0, "end": 20, "text": ""}
                fb = http.post("/api/feedback", json={"verdict": "up", "answer": {"question": "q", "citations": [cited]}})
                assert fb.status_code == 422 and "not an indexed document" in fb.json()["error"]
                seen.append(fb.text.replace(repr(doc_id), ""))
        found = [s for text in seen for s in leaks(text, secrets)]
        assert found == [], f"{user} saw {found[:5]}"
    assert asked >= 50


def test_a_spoofed_identity_from_anywhere_but_the_proxy_is_refused(behind_nginx):
    direct = behind_nginx["direct"]
    spoof = {"X-Forwarded-User": "alice", "X-Forwarded-Groups": "hr,board"}
    for method, path in (("GET", "/healthz"), ("POST", "/api/ask"), ("GET", "/"), ("GET", "/widget/"), ("GET", "/sources/hr/case-1.txt")):
        got = httpx.request(method, direct + path, headers=spoof, json={"question": HR[0][1]} if method == "POST" else None)
        assert got.status_code == 403 and "sign-in proxy" in got.json()["error"], (path, got.text[:200])
    # a header nginx would never send still passes nginx's own value, never the client's
    sentence, question, amount = HR[0]
    via = httpx.post(behind_nginx["url"] + "/api/ask", json={"question": question}, headers={**auth("bob"), **spoof}).json()
    assert amount not in json.dumps(via)


def test_a_groups_header_that_is_huge_or_odd_is_refused_clearly(behind_nginx):
    proxy = httpx.Client(transport=httpx.HTTPTransport(local_address=PROXY_ADDRESS), base_url=behind_nginx["direct"])
    with proxy:
        thousands = proxy.get("/healthz", headers={"X-Forwarded-User": "eve", "X-Forwarded-Groups": ",".join(f"g{i}" for i in range(5000))})
        many = proxy.get("/healthz", headers={"X-Forwarded-User": "eve", "X-Forwarded-Groups": ",".join(f"g{i}" for i in range(500))})
        odd = proxy.get("/healthz", headers={"X-Forwarded-User": "eve", "X-Forwarded-Groups": "hr;<script>"})
        nobody = proxy.get("/healthz", headers={"X-Forwarded-Groups": "hr"})
        ok = proxy.get("/healthz", headers={"X-Forwarded-User": "eve", "X-Forwarded-Groups": "hr, staff"})
    assert thousands.status_code == 400 and "28,889 characters long; at most 8,192" in thousands.json()["error"]
    assert many.status_code == 400 and "500 groups; at most 100 are accepted" in many.json()["error"]
    assert odd.status_code == 400 and "not a group name" in odd.json()["error"] and "\n" not in odd.json()["error"]
    assert nobody.status_code == 401 and "X-Forwarded-User" in nobody.json()["error"]
    assert ok.status_code == 200 and ok.json()["documents"] == 7


# -- tokens ----------------------------------------------------------------------------------


def test_tokens_are_stored_hashed_and_unknown_or_revoked_ones_get_401_fast(labelled, caplog):
    import logging

    from typer.testing import CliRunner

    from ui.cli import app
    from ui.server import create_app

    a = labelled["assistant"]
    env = {"ASSISTANT_DATA_DIR": str(a.settings.index.data_dir)}
    runner = CliRunner()
    made = runner.invoke(app, ["token", "add", "ci-board", "--group", "board"], env=env)
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[0]
    assert token.startswith("cat_") and len(token) > 40
    stored = (a.settings.index.data_dir / "tokens.json").read_text()
    assert token not in stored and "ci-board" in stored
    listed = runner.invoke(app, ["token", "list", "--json"], env=env)
    assert json.loads(listed.stdout)[0]["groups"] == ["board"] and token not in listed.output

    caplog.set_level(logging.DEBUG)
    settings = a.settings.replace(auth_mode="token")
    with ThreadedUvicorn(create_app(a, settings), free_port()) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        bearer = {"Authorization": f"Bearer {token}"}
        question = BOARD[2][1]
        ok = http.post("/api/ask", json={"question": question}, headers=bearer).json()
        assert BOARD[2][2] in ok["answer"]
        assert http.post("/api/ask", json={"question": HR[2][1]}, headers=bearer).json()["abstained"]
        assert http.get("/healthz").status_code == 401 and http.get("/healthz").headers["www-authenticate"] == "Bearer"

        def timed(headers) -> tuple[int, float]:
            t = time.perf_counter()
            status = http.get("/healthz", headers=headers).status_code
            return status, (time.perf_counter() - t) * 1000

        unknown = [timed({"Authorization": "Bearer cat_" + "x" * 43}) for _ in range(30)]
        assert runner.invoke(app, ["token", "revoke", "ci-board"], env=env).exit_code == 0
        revoked = [timed(bearer) for _ in range(30)]
    for runs in (unknown, revoked):
        assert {s for s, _ in runs} == {401}
        assert sorted(ms for _, ms in runs)[len(runs) // 2] < 10, runs  # median round trip, milliseconds
    assert token not in caplog.text and token[4:20] not in caplog.text
    assert runner.invoke(app, ["token", "revoke", "ci-board"], env=env).exit_code == 1


# -- in a real browser -----------------------------------------------------------------------


@pytest.mark.browser
def test_two_users_behind_nginx_see_different_answers_in_the_chat_and_the_widget_screenshots_saved(behind_nginx, labelled):
    """Debian's chromium signs in to nginx as alice, then as bob, asks the chat and the widget
    the same HR question: alice's answer quotes the case file, bob's says the documents do not
    answer. Screenshots go to artifacts/access-<user>-<page>.png."""
    playwright_api = pytest.importorskip("playwright.sync_api", reason="python playwright is not installed: pip install -e '.[test]'")
    from conftest import ROOT

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("no /usr/bin/chromium: install Debian's chromium (apt-get install -y chromium, as .ci/run does)")
    expect = playwright_api.expect
    sentence, question, amount = HR[4]
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"])
        try:
            for user in USERS:
                ctx = browser.new_context(http_credentials={"username": user, "password": USERS[user][0]}, viewport={"width": 1100, "height": 800})
                page = ctx.new_page()
                for name, path in (("chat", "/"), ("widget", "/widget/")):
                    page.goto(behind_nginx["url"] + path, wait_until="load")
                    box = page.locator("#question textarea")
                    box.fill(question)
                    page.locator("#ask").click()
                    expect(page.locator("#chat .message-row.bot-row")).to_have_count(1, timeout=60_000)
                    answer = page.locator("#chat .message-row.bot-row").first
                    if user == "alice":
                        expect(answer).to_contain_text(amount, timeout=20_000)
                    else:
                        expect(answer).to_contain_text("do not answer", timeout=20_000)
                        assert not leaks(page.content(), restricted(labelled, "hr"))
                    page.screenshot(path=str(artifacts / f"access-{user}-{name}.png"), full_page=True)
                ctx.close()
        finally:
            browser.close()


def test_docs_json_shows_groups_and_serving_beyond_loopback_without_sign_in_warns(labelled):
    import socket

    from typer.testing import CliRunner

    from ui.cli import app

    a = labelled["assistant"]
    runner = CliRunner()
    env = {"ASSISTANT_DATA_DIR": str(a.settings.index.data_dir)}
    listed = json.loads(runner.invoke(app, ["docs", "--json"], env=env).stdout)
    assert {d["doc_id"]: d["groups"] for d in listed}["hr/case-2.txt"] == ["hr"]
    with socket.socket() as taken:  # a taken port: serve stops at once, after its warning
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--port", str(port)], env=env)
        quiet = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--port", str(port)], env={**env, "ASSISTANT_AUTH_MODE": "proxy"})
    lines = [line for line in out.stderr.splitlines() if line.startswith("warning:")]
    assert out.exit_code == 1 and len(lines) == 1 and "ASSISTANT_AUTH_MODE=none" in lines[0]
    assert quiet.exit_code == 1 and "warning:" not in quiet.stderr
