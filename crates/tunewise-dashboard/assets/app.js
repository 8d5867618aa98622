// The tunewise dashboard's pages: the studies list and a study's page. Plain JavaScript, no
// dependencies; every URL is relative to the page, so the dashboard works under a URL prefix.
"use strict";

(function () {
  const POLL_RETRY_MS = 2000;
  const STUDIES_REFRESH_MS = 2000;
  const FILTER_DELAY_MS = 400;

  const $ = (sel) => document.querySelector(sel);

  // fetch, then JSON; a non-2xx answer throws an Error with the server's message and status.
  async function getJSON(url, init) {
    const response = await fetch(url, Object.assign({ cache: "no-store" }, init || {}));
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch (_) {
      body = { error: text };
    }
    if (!response.ok) {
      const error = new Error((body && body.error) || response.statusText);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  async function getText(url) {
    const response = await fetch(url, { cache: "no-store" });
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try {
        message = JSON.parse(text).error || text;
      } catch (_) {
        // not JSON: the text is the message
      }
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return text;
  }

  function fmt(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "number") {
      if (Number.isInteger(v)) return String(v);
      const a = Math.abs(v);
      if (a !== 0 && (a >= 1e6 || a < 1e-4)) return v.toExponential(4);
      return String(parseFloat(v.toPrecision(6)));
    }
    return String(v);
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function setLive(connected, text) {
    const live = $("#live");
    live.textContent = text;
    live.className = "live " + (connected ? "on" : "off");
  }

  function setMessage(text) {
    $("#message").textContent = text || "";
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function bestText(best) {
    if (!best) return "—";
    if (best.pareto_front) return "Pareto front: " + best.pareto_front.length + " trials";
    return fmt(best.value);
  }

  // ---- the studies page ----------------------------------------------------------------

  async function studiesPage() {
    const tbody = $("#studies tbody");
    async function load() {
      const data = await getJSON("api/studies");
      const rows = data.studies.map((s) => {
        const link = el("a", { href: "study/" + encodeURIComponent(s.name), text: s.name });
        const best = el("td", { class: "num best", text: bestText(s.best) });
        if (s.best && s.best.value !== undefined) best.title = String(s.best.value);
        return el("tr", { "data-study": s.name }, [
          el("td", { class: "name" }, [link]),
          el("td", { text: s.directions.join(", ") }),
          el("td", { class: "num trials", text: String(s.n_trials) }),
          el("td", { class: "num", text: String(s.counts.complete) }),
          el("td", { class: "num", text: String(s.counts.running) }),
          best,
          el("td", { text: s.last_activity ? new Date(s.last_activity).toLocaleString() : "" }),
        ]);
      });
      tbody.replaceChildren(...rows);
      setMessage(rows.length ? "" : "The storage holds no study yet.");
    }
    for (;;) {
      try {
        await load();
        document.body.dataset.ready = "true";
        setLive(true, "live");
      } catch (e) {
        setLive(false, "disconnected, retrying");
        setMessage(e.message);
      }
      await sleep(STUDIES_REFRESH_MS);
    }
  }

  // ---- a study's page ------------------------------------------------------------------

  async function studyPage() {
    const segments = location.pathname.split("/").filter((s) => s.length > 0);
    const name = decodeURIComponent(segments[segments.length - 1] || "");
    const api = "../api/studies/" + encodeURIComponent(name);
    document.title = name + " · tunewise dashboard";
    $("#study-name").textContent = name;

    const view = {
      sort: "number",
      order: "asc",
      offset: 0,
      limit: 50,
      filter: "",
      state: "all",
      objective: 0,
      cursor: null,
      summary: null,
      columnsKey: "",
      figureOptions: {},
    };

    function tableQuery(withPage) {
      const q = new URLSearchParams();
      if (view.state !== "all") q.set("state", view.state);
      if (view.filter.trim()) q.set("filter", view.filter.trim());
      q.set("sort", view.sort);
      q.set("order", view.order);
      if (withPage) {
        q.set("offset", String(view.offset));
        q.set("limit", String(view.limit));
      }
      return q.toString();
    }

    // -- summary
    async function loadSummary() {
      const s = await getJSON(api);
      view.summary = s;
      view.cursor = s.cursor;
      $("#trial-count").textContent = String(s.n_trials);
      const best = $("#best-value");
      best.textContent = bestText(s.best);
      best.title = s.best && s.best.value !== undefined ? String(s.best.value) : "";
      $("#counts").textContent = Object.entries(s.counts)
        .filter(([, n]) => n > 0)
        .map(([state, n]) => n + " " + state)
        .join(", ") || "no trial yet";
      $("#best-params").textContent = s.best && s.best.params
        ? Object.entries(s.best.params).map(([k, v]) => k + " = " + v).join(", ") +
          " (trial " + s.best.number + ")"
        : "";
      setupObjective(s);
      setupHeader(s);
      setupFigures(s);
      setupWrites(s);
    }

    function setupObjective(s) {
      const box = $("#objective-choice");
      const select = $("#objective");
      box.hidden = s.directions.length < 2;
      if (select.options.length !== s.directions.length) {
        select.replaceChildren(...s.directions.map((d, i) =>
          el("option", { value: String(i), text: i + " (" + d + ")" })));
        select.value = String(view.objective);
      }
    }

    // -- the table
    function setupHeader(s) {
      const key = JSON.stringify(s.columns);
      if (key === view.columnsKey) return;
      view.columnsKey = key;
      const row = $("#trials thead tr");
      row.replaceChildren(...s.columns.map((c) => {
        const th = el("th", { "data-sort": c.key, text: c.label, title: "sort by " + c.key });
        if (c.kind === "number" || c.kind === "value" || c.kind === "duration") th.classList.add("num");
        th.addEventListener("click", () => {
          if (view.sort === c.key) view.order = view.order === "asc" ? "desc" : "asc";
          else {
            view.sort = c.key;
            view.order = "asc";
          }
          view.offset = 0;
          loadTable().catch(showError);
        });
        return th;
      }));
      markSort();
    }

    function markSort() {
      for (const th of document.querySelectorAll("#trials thead th")) {
        if (th.dataset.sort === view.sort) {
          th.setAttribute("aria-sort", view.order === "asc" ? "ascending" : "descending");
        } else th.removeAttribute("aria-sort");
      }
    }

    function cell(c, t) {
      switch (c.kind) {
        case "number": return el("td", { class: "number", text: String(t.number) });
        case "state": return el("td", { class: "state state-" + t.state, text: t.state });
        case "value": {
          const v = t.values ? t.values[c.objective] : null;
          return el("td", { class: "value", text: fmt(v), title: v === null || v === undefined ? null : String(v) });
        }
        case "worker": return el("td", { class: "worker", text: t.worker || "" });
        case "duration": return el("td", { class: "duration", text: fmt(t.duration) });
        default: {
          const v = t.params[c.key];
          return el("td", { class: "param", text: fmt(v) });
        }
      }
    }

    async function loadTable() {
      let page;
      try {
        page = await getJSON(api + "/trials?" + tableQuery(true));
        $("#filter-error").textContent = "";
      } catch (e) {
        if (e.status === 400) {
          $("#filter-error").textContent = e.message;
          return;
        }
        throw e;
      }
      const columns = view.summary ? view.summary.columns : [];
      $("#trials tbody").replaceChildren(...page.trials.map((t) =>
        el("tr", { "data-number": String(t.number) }, columns.map((c) => cell(c, t)))));
      $("#trial-total").textContent = page.matched + " of " + page.total + " trials";
      const last = Math.min(page.offset + page.trials.length, page.matched);
      $("#page-info").textContent = page.matched
        ? "showing " + (page.offset + 1) + "–" + last
        : "";
      $("#prev").disabled = view.offset <= 0;
      $("#next").disabled = view.offset + view.limit >= page.matched;
      $("#csv").href = api + "/trials.csv?" + tableQuery(false);
      markSort();
    }

    // -- figures
    const TITLES = {
      history: "History",
      importance: "Parameter importance",
      pareto: "Pareto front",
      edf: "Empirical distribution",
      slice: "Slice",
      contour: "Contour",
      parallel_coordinates: "Parallel coordinates",
      intermediate: "Intermediate values",
      timeline: "Timeline",
    };

    function paramSelect(kind, option, params, fallback) {
      const select = el("select", { "data-option": option });
      select.replaceChildren(...params.map((p) => el("option", { value: p.name, text: p.name })));
      const chosen = view.figureOptions[kind][option] || fallback;
      if (chosen) select.value = chosen;
      view.figureOptions[kind][option] = select.value;
      select.addEventListener("change", () => {
        view.figureOptions[kind][option] = select.value;
        loadFigure(kind).catch(showError);
      });
      return el("label", { text: option + " " }, [select]);
    }

    function figureControls(kind, s) {
      view.figureOptions[kind] = view.figureOptions[kind] || {};
      const numeric = s.params.filter((p) => !p.categorical);
      if (kind === "slice" && s.params.length) {
        return [paramSelect(kind, "param", s.params, s.params[0].name)];
      }
      if (kind === "contour" && numeric.length >= 2) {
        return [
          paramSelect(kind, "x", numeric, numeric[0].name),
          paramSelect(kind, "y", numeric, numeric[1].name),
        ];
      }
      if (kind === "importance") {
        const select = el("select", { "data-option": "evaluator" }, [
          el("option", { value: "ped-anova", text: "PED-ANOVA" }),
          el("option", { value: "fanova", text: "fANOVA" }),
        ]);
        select.value = view.figureOptions[kind].evaluator || "ped-anova";
        view.figureOptions[kind].evaluator = select.value;
        select.addEventListener("change", () => {
          view.figureOptions[kind].evaluator = select.value;
          loadFigure(kind).catch(showError);
        });
        return [el("label", { text: "evaluator " }, [select])];
      }
      if (kind === "timeline") {
        const box = el("input", { type: "checkbox" });
        box.checked = !!view.figureOptions[kind].by_worker;
        box.addEventListener("change", () => {
          view.figureOptions[kind].by_worker = box.checked;
          loadFigure(kind).catch(showError);
        });
        return [el("label", {}, [box, " by worker"])];
      }
      return [];
    }

    let figuresKey = "";
    function setupFigures(s) {
      const key = JSON.stringify([s.figures, s.params]);
      if (key === figuresKey) return;
      figuresKey = key;
      const plots = $("#plots");
      plots.replaceChildren(...s.figures.map((kind) => el("figure", { "data-kind": kind }, [
        el("figcaption", {}, [el("span", { text: TITLES[kind] || kind })].concat(figureControls(kind, s))),
        el("div", { class: "plot" }),
      ])));
    }

    async function loadFigure(kind) {
      const figure = document.querySelector('#plots figure[data-kind="' + kind + '"]');
      if (!figure) return;
      const q = new URLSearchParams({ format: "svg", objective: String(view.objective) });
      for (const [k, v] of Object.entries(view.figureOptions[kind] || {})) {
        if (v !== undefined && v !== null && v !== "" && v !== false) q.set(k, String(v));
      }
      const box = figure.querySelector(".plot");
      try {
        const svg = await getText(api + "/figures/" + kind + "?" + q.toString());
        box.innerHTML = svg;
      } catch (e) {
        if (e.status >= 400 && e.status < 500 && e.status !== 404) {
          box.replaceChildren(el("p", { class: "plot-message", text: e.message }));
        } else throw e;
      }
    }

    async function loadFigures() {
      const kinds = Array.from(document.querySelectorAll("#plots figure")).map((f) => f.dataset.kind);
      await Promise.all(kinds.map(loadFigure));
    }

    // -- writes (only offered with --allow-writes)
    let writesKey = "";
    function setupWrites(s) {
      $("#writes").hidden = !s.writable;
      if (!s.writable) return;
      const key = JSON.stringify(s.params);
      if (key === writesKey) return;
      writesKey = key;
      $("#enqueue-fields").replaceChildren(...s.params.map((p) =>
        el("label", { text: p.name + " " }, [el("input", { name: p.name, size: "8" })])));
    }

    function parseValue(text) {
      const t = text.trim();
      if (t === "true") return true;
      if (t === "false") return false;
      if (t !== "" && !isNaN(Number(t))) return Number(t);
      return t;
    }

    $("#enqueue-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const params = {};
      for (const input of document.querySelectorAll("#enqueue-fields input")) {
        if (input.value.trim() !== "") params[input.name] = parseValue(input.value);
      }
      try {
        const r = await getJSON(api + "/enqueue", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ params }),
        });
        $("#write-message").textContent = "enqueued trial " + r.enqueued;
      } catch (e) {
        $("#write-message").textContent = e.message;
      }
    });

    $("#delete-study").addEventListener("click", async () => {
      if (!window.confirm("Delete the study '" + name + "' and all its trials? This cannot be undone.")) return;
      try {
        await getJSON(api + "/delete", { method: "POST" });
        location.href = "../";
      } catch (e) {
        $("#write-message").textContent = e.message;
      }
    });

    // -- controls
    $("#prev").addEventListener("click", () => {
      view.offset = Math.max(0, view.offset - view.limit);
      loadTable().catch(showError);
    });
    $("#next").addEventListener("click", () => {
      view.offset += view.limit;
      loadTable().catch(showError);
    });
    $("#state").addEventListener("change", () => {
      view.state = $("#state").value;
      view.offset = 0;
      loadTable().catch(showError);
    });
    $("#objective").addEventListener("change", () => {
      view.objective = Number($("#objective").value);
      loadFigures().catch(showError);
    });
    let filterTimer = null;
    function applyFilter() {
      clearTimeout(filterTimer);
      if ($("#filter").value === view.filter) return;
      view.filter = $("#filter").value;
      view.offset = 0;
      loadTable().catch(showError);
    }
    $("#filter").addEventListener("keydown", (event) => {
      if (event.key === "Enter") applyFilter();
    });
    $("#filter").addEventListener("input", () => {
      clearTimeout(filterTimer);
      filterTimer = setTimeout(applyFilter, FILTER_DELAY_MS);
    });

    function showError(e) {
      setMessage(e.message);
    }

    async function refreshAll() {
      await loadSummary();
      await Promise.all([loadTable(), loadFigures()]);
    }

    // -- first load (the summary, the table and the history first, the other figures
    // after), then live updates by long poll
    try {
      await loadSummary();
      await Promise.all([loadTable(), loadFigure("history")]);
      setMessage("");
      document.body.dataset.ready = "true";
      const others = Array.from(document.querySelectorAll("#plots figure"))
        .map((f) => f.dataset.kind)
        .filter((k) => k !== "history");
      await Promise.all(others.map(loadFigure));
    } catch (e) {
      setLive(false, "not connected");
      setMessage(e.message);
      if (e.status === 404) return;
    }
    for (;;) {
      try {
        setLive(true, "live");
        const since = view.cursor === null ? 0 : view.cursor;
        const c = await getJSON(api + "/changes?wait=25&cursor=" + since);
        if (c.cursor !== view.cursor) {
          await refreshAll();
          setMessage("");
          document.body.dataset.ready = "true";
        }
      } catch (e) {
        if (e.status === 404) {
          setLive(false, "study deleted");
          setMessage("This study no longer exists. Back to the studies: ");
          $("#message").append(el("a", { href: "../", text: "studies" }));
          return;
        }
        setLive(false, "disconnected, retrying");
        setMessage(e.message);
        await sleep(POLL_RETRY_MS);
      }
    }
  }

  if (document.body.dataset.page === "studies") studiesPage();
  else if (document.body.dataset.page === "study") studyPage();
})();
