"""The chat's and the widget's page scripts and the widget's styles (served inline with their
pages by :func:`ui.server.serve`; nothing is loaded from outside)."""

from __future__ import annotations

CHAT_JS = """
() => {
  // Shared by the chat and the widget; loads nothing but the one status URL of a cited document.
  // 1. A message's aria-label is its text: Gradio puts the message's HTML there, which a screen
  //    reader would read out tag by tag.
  //    The label is read from the HTML Gradio put there, parsed inertly (DOMParser runs no
  //    script and loads nothing), without the popovers and the folded sources.
  const fixLabel = (el) => {
    const old = el.getAttribute("aria-label") || "";
    if (old === el.dataset.label || !/[<&]/.test(old)) return;
    const i = old.indexOf(": ");
    const prefix = i >= 0 && i < 40 ? old.slice(0, i + 2) : "";
    const doc = new DOMParser().parseFromString(old.slice(prefix.length), "text/html");
    doc.querySelectorAll(".cite-pop, details").forEach((x) => x.remove());
    const label = prefix + doc.body.textContent.replace(/\s+/g, " ").trim();
    el.dataset.label = label;
    el.setAttribute("aria-label", label);
  };
  const fixAll = () => {
    document.querySelectorAll("#chat [aria-label]").forEach(fixLabel);
    // Gradio's sanitiser drops aria-describedby: each marker is described by its popover
    document.querySelectorAll("#chat a.cite:not([aria-describedby])").forEach((a) => {
      const pop = a.nextElementSibling;
      if (pop && pop.classList.contains("cite-pop") && pop.id) a.setAttribute("aria-describedby", pop.id);
    });
  };
  new MutationObserver(fixAll).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["aria-label"] });
  fixAll();
  // 2. [n] opens that answer's own sources (folded under it) at card n, in any message.
  document.addEventListener("click", (e) => {
    const a = e.target.closest && e.target.closest("a.cite");
    if (!a) return;
    const card = document.getElementById((a.getAttribute("href") || "").slice(1));
    if (!card) return;
    e.preventDefault();
    const folded = card.closest("details");
    if (folded) folded.open = true;
    card.scrollIntoView({ block: "nearest" });
    card.classList.add("flash");
    setTimeout(() => card.classList.remove("flash"), 2000);
    card.focus({ preventScroll: true });
  }, true);
  // 3. A popover says so when its document has left the index since the answer, and stays in the window.
  const checked = new WeakMap();
  // Fixed to the window (so the chat's scroll box never clips it): under the marker, or above
  // it when there is no room below, and never past the window's sides.
  const place = (a, pop) => {
    const r = a.getBoundingClientRect(), W = document.documentElement.clientWidth, H = window.innerHeight;
    pop.style.position = "fixed";
    const w = pop.offsetWidth || Math.min(340, W * 0.8), h = pop.offsetHeight || 200;
    pop.style.left = Math.max(4, Math.min(r.left, W - w - 4)) + "px";
    pop.style.top = (r.bottom + 4 + h <= H - 4 ? r.bottom + 4 : Math.max(4, r.top - h - 4)) + "px";
  };
  document.addEventListener("scroll", () => {
    document.querySelectorAll("#chat .cite-wrap:hover a.cite, #chat a.cite:focus").forEach((a) => {
      const pop = a.parentElement.querySelector(".cite-pop");
      if (pop) place(a, pop);
    });
  }, true);
  const show = (a) => {
    const pop = a.parentElement && a.parentElement.querySelector(".cite-pop");
    if (!pop) return;
    place(a, pop);
    // the status URL is the source view's, /sources/ -> /source-status/ (Gradio's sanitiser drops data-*)
    const card = document.getElementById((a.getAttribute("href") || "").slice(1));
    const open = card && card.querySelector("a.open");
    if (!open) return;
    const link = new URL(open.getAttribute("href"), window.location.href);
    const url = link.pathname.replace(/\/sources\/(?!.*\/sources\/)/, "/source-status/");
    const last = checked.get(pop);
    if (last && Date.now() - last < 10000) return;
    checked.set(pop, Date.now());
    fetch(url, { cache: "no-store" }).then((r) => {
      if (r.status !== 404 || pop.querySelector(".pop-gone")) return;
      const note = document.createElement("span");
      note.className = "pop-gone";
      note.textContent = "This document has been removed from the index since this answer; the quote below is as it was then.";
      pop.classList.add("gone");
      pop.insertBefore(note, pop.querySelector(".pop-text"));
    }).catch(() => checked.delete(pop));
  };
  const onCite = (e) => { const a = e.target.closest && e.target.closest("a.cite"); if (a) show(a); };
  document.addEventListener("mouseover", onCite);
  document.addEventListener("focusin", onCite);
  // 4. Feedback sits on the message it rates: the comment box (#feedback-box) moves under the
  //    rated answer's thumbs, and stays there as the conversation goes on.
  let rated = -1;
  const placeFeedback = () => {
    const box = document.getElementById("feedback-box");
    const rows = document.querySelectorAll("#chat .message-row.bot-row");
    if (!box || rated < 0 || !rows[rated]) return;
    let after = rows[rated];
    if (after.nextElementSibling && after.nextElementSibling.classList.contains("message-buttons")) after = after.nextElementSibling;
    if (after.nextElementSibling !== box) after.after(box);
  };
  document.addEventListener("click", (e) => {
    const b = e.target.closest && e.target.closest("#chat .message-buttons button");
    if (!b || !/like/i.test(b.getAttribute("aria-label") || "")) return;
    const rows = [...document.querySelectorAll("#chat .message-row.bot-row")];
    const buttons = b.closest(".message-buttons"), row = buttons && buttons.previousElementSibling;
    rated = rows.indexOf(row);
    placeFeedback();
  }, true);
  new MutationObserver(placeFeedback).observe(document.body, { childList: true, subtree: true });
  // 5. Escape closes a popover opened by keyboard focus.
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && document.activeElement && document.activeElement.matches("a.cite")) document.activeElement.blur();
  });
}
"""
"""Page script of the chat and the widget (runs in their own pages, loads nothing from outside):
readable message labels, ``[n]`` opening its answer's sources, the removed-document popover."""

WIDGET_CSS = """
.gradio-container, .gradio-container .main.fillable { padding: 4px 6px !important; }
#chat { flex: 1 1 0 !important; min-height: 120px !important; }
#chat > .wrapper, #chat .bubble-wrap { height: 100% !important; max-height: 100% !important; }
#widget-bar { font-size: 12px; line-height: 1.2; text-align: right; margin: 0; padding: 0 2px; min-height: 0 !important; }
#widget-bar .prose, #widget-bar div { min-height: 0 !important; margin: 0 !important; padding: 0 !important; }
#widget-bar a { color: #0550ae; }
"""
"""Extra styles of the compact widget: little padding, the conversation takes the height left."""

WIDGET_JS = CHAT_JS.rstrip().removesuffix("}").rstrip() + """
  // The widget: keep the latest question and the start of its answer in view (the chat would
  // scroll to the end of a long answer); "open full screen" carries the widget's scope.
  const scroller = (el) => {
    for (let e = el && el.parentElement; e; e = e.parentElement) {
      if (e.scrollHeight > e.clientHeight && /(auto|scroll)/.test(getComputedStyle(e).overflowY)) return e;
    }
    return null;
  };
  let rows = 0;
  new MutationObserver(() => {
    const all = document.querySelectorAll("#chat .message-row");
    if (all.length === rows) return;
    rows = all.length;
    const questions = document.querySelectorAll("#chat .message-row.user-row");
    const q = questions[questions.length - 1], box = scroller(q);
    if (rows > 1 && q && box) box.scrollTop += q.getBoundingClientRect().top - box.getBoundingClientRect().top - 4;
  }).observe(document.body, { childList: true, subtree: true });
  document.addEventListener("click", (e) => {
    const a = e.target.closest && e.target.closest("a.fullscreen");
    if (a) a.href = new URL("../" + window.location.search, window.location.href).href;
  }, true);
}
"""
"""Page script of the widget: :data:`CHAT_JS` plus keeping the latest question in view."""
