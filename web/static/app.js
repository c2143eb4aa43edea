/* global window, document, CSS, EventSource -- this file runs in the browser */
// Progressive enhancement only: every page works without this file.

/** The attempt page: phases and checks change as the grader decides them, over Server-Sent Events. */
function followAttempt(root) {
  const url = root.dataset.liveEvents;
  if (!url || !("EventSource" in window)) return;
  const note = document.getElementById("live-status");
  const say = (text) => {
    if (note) note.textContent = text;
  };
  const phases = [...root.querySelectorAll("[data-phase]")];
  // The server hands over its own labels (pages/format.ts), so this file keeps no copy of them.
  const { checks: labels = {}, running } = JSON.parse(root.dataset.liveLabels || "{}");
  const setCheck = (id, status) => {
    const row = root.querySelector(`[data-check-id="${CSS.escape(id)}"]`);
    if (!row) return undefined;
    row.dataset.status = status;
    row.querySelector(".check-status").textContent = labels[status] ?? status;
    return row.querySelector(".check-title")?.textContent ?? id;
  };
  const source = new EventSource(url);
  source.addEventListener("phase", (e) => {
    const { phase } = JSON.parse(e.data);
    const at = phases.findIndex((li) => li.dataset.phase === phase);
    phases.forEach((li, i) => {
      li.dataset.state = i < at ? "done" : i === at ? "current" : "pending";
    });
    const badge = root.querySelector("[data-attempt-status] .status");
    if (badge && running && phase !== "queued") {
      badge.className = "status status-running";
      badge.textContent = running;
    }
    const label = phases[at]?.querySelector(".phase-name")?.textContent;
    if (label) say(`${label}…`);
  });
  source.addEventListener("check", (e) => {
    const { id, status } = JSON.parse(e.data);
    const title = setCheck(id, status);
    if (title) say(`${labels[status] ?? status}: ${title}`);
  });
  source.addEventListener("restarted", () => {
    root.querySelectorAll("[data-check-id]").forEach((row) => setCheck(row.dataset.checkId, "pending"));
    say("The grading was interrupted and starts again from the beginning.");
  });
  source.addEventListener("waiting", (e) => {
    const { slot, ahead, limit } = JSON.parse(e.data);
    if (slot === "learner") {
      say(
        `Queued: ${limit} of your attempts are being graded, the most at once; this one starts when one of them finishes.`,
      );
      return;
    }
    const what = slot === "build" ? "a free build slot" : "a free grading slot";
    say(`Waiting for ${what} on a busy grader${ahead > 0 ? ` (${ahead} ahead of you)` : ""}…`);
  });
  // A refused stream (too many open at once) is not retried by the browser: say so rather than go quiet.
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED)
      say("Live progress is off: you may have too many attempt pages open. Close some, then reload this page.");
  });
  source.addEventListener("retrying", () =>
    say("The grading platform had a problem; trying again shortly (this is not your fault)."),
  );
  const finish = () => {
    source.close();
    say("Finished: loading the result…");
    // The server renders the verdicts with their evidence; reload rather than rebuild it here.
    window.location.reload();
  };
  source.addEventListener("done", finish);
  source.addEventListener("superseded", finish);
}

/** The cohort matrix narrows as the instructor types a name (the form still filters on the server). */
function filterAsYouType(input) {
  const rows = () => document.querySelectorAll(input.dataset.filterRows);
  input.addEventListener("input", () => {
    const text = input.value.trim().toLowerCase();
    rows().forEach((row) => {
      if (row.dataset.learner !== undefined)
        row.hidden = text !== "" && !row.dataset.learner.toLowerCase().includes(text);
    });
  });
}

const attempt = document.querySelector("[data-live-events]");
if (attempt) followAttempt(attempt);
document.querySelectorAll("input[data-filter-rows]").forEach(filterAsYouType);
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (e) => {
    if (!window.confirm(form.dataset.confirm)) e.preventDefault();
  });
});
