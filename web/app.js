/* vendange web page: sources, sync history, data quality, customers and
   their recommendations. Talks to the
   JSON API only; no framework, nothing fetched from outside. Its words go
   through t() and its dates and amounts through fmt*() (i18n.js). */
"use strict";

const FIELDS = {
    isavigne : [
        [
            "export_path", "Export folder", "text", true,
            "folder of the iSaVigne exports (clients, produits, ventes, stock)"
        ],
        [
            "encoding", "Encoding override", "text", false,
            "empty: detected (windows-1252, iso-8859-15, utf-8)"
        ],
        [
            "mapping", "Mapping file", "text", false,
            "column mapping file; empty: the two built-in dialects"
        ],
        [ "schedule", "Schedule", "text", false, "e.g. every 15m, hourly, daily 02:00" ],
    ],
    odoo : [
        [ "url", "URL", "text", true, "https://erp.example.com" ],
        [ "database", "Database", "text", true, "" ],
        [ "user", "User", "text", true, "technical user" ],
        [ "api_key", "API key", "password", true, "write-only: never shown again" ],
        [ "schedule", "Schedule", "text", false, "" ],
    ],
    brevo : [
        [ "token", "Token", "password", false, "write-only" ],
        [ "user", "User (basic auth)", "text", false, "" ],
        [ "password", "Password", "password", false, "write-only" ],
    ],
    powerautomate : [
        [ "token", "Token", "password", false, "write-only" ],
        [ "user", "User (basic auth)", "text", false, "" ],
        [ "password", "Password", "password", false, "write-only" ],
    ],
};
const TABLE_ORDER =
    [ "product_catalog", "customers", "stock_levels", "sales_lines", "contact_history" ];
const COUNTS = [ "extracted", "inserted", "updated", "unchanged", "rejected" ];
let timers = [];

function el (tag, attrs, ...children)
{
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (k === "class")
            e.className = v;
        else if (k === "style")
            e.style.cssText = v; /* CSSOM: allowed by the page's CSP, a style attribute is not */
        else if (k.startsWith("on"))
            e.addEventListener(k.slice(2), v);
        else if (v !== null && v !== undefined && v !== false)
            e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
        if (c === null || c === undefined)
            continue;
        e.appendChild(typeof c === "string" || typeof c === "number"
                          ? document.createTextNode(String (c))
                          : c);
    }
    return e;
}

function errorText (status, body)
{
    if (body && body.error) {
        let text = body.error;
        if (body.detail)
            text += "\n" +
                    (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
        if (body.hint)
            text += "\n" + t ("hint: ") + body.hint;
        return text;
    }
    return "HTTP " + status;
}

function showError (text)
{
    const b = document.getElementById("error");
    b.textContent = text;
    b.hidden = !text;
}

/* fetch JSON; throws Error(message from the API) on a non-2xx answer */
async function api (method, path, body)
{
    const headers = {"Accept" : "application/json"};
    const token = sessionStorage.getItem("vendange_token");
    if (token)
        headers["Authorization"] = "Bearer " + token;
    if (method !== "GET") /* the API takes state changes as JSON only */
        headers["Content-Type"] = "application/json";
    let r;
    try {
        r = await fetch (
            path, {method, headers, body : body === undefined ? undefined : JSON.stringify(body)});
    } catch (e) {
        throw new Error (t ("cannot reach the orchestrator: {msg}", {msg : e.message}));
    }
    let data = null;
    try {
        data = await r.json();
    } catch (e) {
        data = null;
    }
    if (r.status === 401)
        askToken ();
    if (!r.ok) {
        const err = new Error (errorText (r.status, data));
        err.status = r.status;
        err.body = data;
        throw err;
    }
    return data;
}

function askToken ()
{
    const main = document.getElementById("main");
    if (document.getElementById("token-form"))
        return;
    const input = el ("input", {type : "password", id : "token", autocomplete : "off"});
    main.prepend(el ("form", {
        id : "token-form",
        class : "register",
        onsubmit : (e) => {
            e.preventDefault();
            sessionStorage.setItem("vendange_token", input.value);
            route ();
        }
    },
                     el ("label",
                         {for: "token"
                         },
                         t ("API token (VENDANGE_API_TOKEN)")),
                     input, el ("p", {}, el ("button", {type : "submit"}, t ("Sign in")))));
}

/* runs an action; any error is shown in the banner and returned */
async function guarded (fn)
{
    try {
        const v = await fn ();
        return v;
    } catch (e) {
        showError (e.message);
        return undefined;
    }
}

/* a status or health as a badge: its class the value, its text translated */
function badge (value)
{
    return el ("span", {class : "badge " + (value || "idle"), "data-value" : value || "idle"},
               t (value || "idle"));
}

function sleep (ms)
{
    return new Promise ((r) => setTimeout (r, ms));
}

/* ---------- Sources ---------- */

async function pageSources (main)
{
    const [status, connectors] =
        await Promise.all([ api ("GET", "/api/status"), api ("GET", "/api/connectors") ]);
    const byName = {};
    for (const c of status.connectors)
        byName[c.name] = c;
    const cards = el ("div", {class : "cards", id : "cards"});
    for (const c of connectors)
        cards.appendChild(sourceCard (c, byName[c.name] || {}));
    if (!connectors.length)
        cards.appendChild(el ("p", {}, t ("No connector yet: register one below.")));
    main.replaceChildren(el ("h2", {}, t ("Sources")), ...servicesLines (status), cards,
                         el ("h2", {}, t ("Register a source")), registerForm ());
}

/* The live services' roles; then the dead services the API still lists
   (a run they failed is recent), each with those runs. */
function servicesLines (status)
{
    const alive = status.services.filter((s) => s.alive).map((s) => s.role);
    const lines = [ el (
        "p", {class : "meta", id : "services-alive"},
        t ("Services alive: {list}", {list : alive.length ? alive.join(", ") : t ("none")})) ];
    const dead = status.services.filter((s) => !s.alive).map((s) => {
        const runs = (s.failed_runs || [])
                         .map((id) => t ("run {id}", {id}))
                         .concat((s.failed_reco_runs ||
                                  []).map((id) => t ("recommendation job {id}", {id})));
        return t ("{role} {instance} (failed {runs})",
                  {role : s.role, instance : s.instance, runs : runs.join(", ")});
    });
    if (dead.length)
        lines.push(el ("p", {class : "meta msg-err", id : "services-dead"},
                       t ("Stopped, failed recent runs: {list}", {list : dead.join("; ")})));
    return lines;
}

function sourceCard (c, st)
{
    const health = st.health || "idle";
    const last = c.last_run;
    const msg = el ("div", {class : "card-msg"});
    const card =
        el ("div", {class : "card", id : "card-" + c.name, "data-name" : c.name},
            el ("h3", {}, el ("span", {}, c.name), badge (health)),
            el ("div", {class : "meta"}, t ("type: {type}", {type : c.type})),
            el ("div", {class : "meta last-run"}, lastRunText (last)),
            st.last_error ? el ("div", {class : "meta msg-err last-error"},
                                t ("last error: {error}", {error : st.last_error}))
                          : null,
            el ("div", {class : "actions"},
                el ("button",
                    {class : "secondary btn-test", onclick : () => testConnector (c.name, msg)},
                    t ("Test")),
                el ("button",
                    {class : "btn-sync", onclick : (e) => syncConnector (c.name, msg, e.target)},
                    t ("Sync now")),
                el ("a", {
                    class : "button secondary btn-details",
                    href : "#/connector/" + encodeURIComponent (c.name)
                },
                    t ("Details"))),
            msg);
    return card;
}

/* "last run: #12 success, 05/12/2026 22:55" */
function lastRunText (run)
{
    return t ("last run: {run}", {
        run : run ? "#" + run.id + " " + t (run.status) + ", " +
                        fmtTime (run.finished_at || run.started_at || run.queued_at)
                  : t ("none")
    });
}

async function testConnector (name, msg)
{
    msg.className = "card-msg progress";
    msg.textContent = t ("testing…");
    await guarded (async () => {
        const test = await api ("POST", "/api/connectors/" + encodeURIComponent (name) + "/test");
        for (let i = 0; i < 120; i++) {
            const r = await api ("GET", "/api/tests/" + test.test_id);
            if (r.status !== "pending" && r.status !== "running" && r.status !== "sent") {
                const res = r.result || {};
                const ok = r.status === "ok" || res.ok === true;
                msg.className = "card-msg " + (ok ? "msg-ok" : "msg-err");
                msg.textContent = t (ok ? "test ok: {summary}" : "test failed: {summary}",
                                     {summary : summarizeTest (res)});
                return;
            }
            await sleep (500);
        }
        throw new Error (t ("connector test: no answer from an extractor"));
    });
    if (msg.textContent === t ("testing…")) {
        msg.textContent = "";
    }
}

function summarizeTest (res)
{
    if (res.message)
        return res.message;
    if (res.error)
        return res.error.reason || JSON.stringify(res.error);
    return JSON.stringify(res);
}

async function syncConnector (name, msg, button, full)
{
    if (button)
        button.disabled = true;
    msg.className = "card-msg progress";
    msg.textContent = t ("sync queued…");
    const done = await guarded (async () => {
        let q;
        try {
            q = await api ("POST", "/api/connectors/" + encodeURIComponent (name) + "/sync",
                           full ? {full : true} : {});
        } catch (e) {
            if (e.status === 409 && e.body && e.body.run_id)
                q = {run_id : e.body.run_id};
            else
                throw e;
        }
        for (;;) {
            const run = await api ("GET", "/api/runs/" + q.run_id);
            msg.textContent =
                t ("run #{id} {status}: {records} records",
                   {id : run.id, status : t (run.status), records : run.records_done});
            updateCard (name, run);
            if (run.status !== "queued" && run.status !== "running") {
                msg.className = "card-msg " + (run.status === "success" ? "msg-ok" : "msg-err");
                return run;
            }
            await sleep (400);
        }
    });
    if (button)
        button.disabled = false;
    if (!done)
        msg.textContent = "";
    return done;
}

/* the badge and last run of a connector's card, live (no page reload) */
function updateCard (name, run)
{
    const card = document.getElementById("card-" + name);
    if (!card)
        return;
    const health = run.status === "success"                              ? "healthy"
                   : run.status === "queued" || run.status === "running" ? "syncing"
                                                                         : "error";
    card.querySelector(".badge").replaceWith(badge (health));
    card.querySelector(".last-run").textContent = lastRunText (run);
}

function registerForm ()
{
    const typeSel = el ("select", {id : "reg-type", name : "type"},
                        Object.keys(FIELDS).map((k) => el ("option", {value : k}, k)));
    const fieldsBox = el ("div", {id : "reg-fields"});
    const msg = el ("div", {id : "reg-msg"});
    const fill =
        () => {
            fieldsBox.replaceChildren(...FIELDS[typeSel.value].map(
                ([ k,
                   label, type, req, help ]) => el ("div", {},
                                                    el ("label",
                                                        {for: "reg-" + k
                                                        },
                                                        t (label) + (req ? " *" : "")),
                                                    el ("input", {
                                                        id : "reg-" + k,
                                                        name : k,
                                                        type,
                                                        autocomplete : type === "password"
                                                                           ? "new-password"
                                                                           : "off"
                                                    }),
                                                    help ? el ("div", {class : "help"}, t (help))
                                                         : null)));
        };
    typeSel.addEventListener("change", fill);
    fill ();
    const form =
        el ("form", {
            class : "register",
            id : "register",
            onsubmit : async (e) => {
                e.preventDefault();
                msg.className = "";
                msg.textContent = "";
                const settings = {};
                for (const input of fieldsBox.querySelectorAll("input"))
                    if (input.value.trim() !== "")
                        settings[input.name] = input.value.trim();
                const name = form.querySelector("#reg-name").value.trim();
                try {
                    await api ("POST", "/api/connectors", {name, type : typeSel.value, settings});
                    showError ("");
                    route ();
                } catch (err) {
                    msg.className = "msg-err";
                    msg.textContent = err.message;
                    showError (err.message);
                }
            }
        },
            el ("label",
                {for: "reg-name"
                },
                t ("Name *")),
            el ("input", {id : "reg-name", name : "name", autocomplete : "off"}),
            el ("label",
                {for: "reg-type"
                },
                t ("Type")),
            typeSel, fieldsBox,
            el ("p", {}, el ("button", {type : "submit", id : "reg-submit"}, t ("Register"))), msg);
    return form;
}

/* ---------- Connector detail ---------- */

function runTables (run)
{
    const names = Object.keys(run.tables || {})
                      .sort((a, b) => TABLE_ORDER.indexOf(a) - TABLE_ORDER.indexOf(b));
    if (!names.length)
        return el ("span", {class : "meta"}, t ("no table"));
    return el ("table", {class : "counts"},
               el ("tr", {}, el ("th", {}, t ("table")), COUNTS.map((c) => el ("th", {}, t (c)))),
               names.map((n) => el ("tr", {"data-table" : n}, el ("td", {}, n),
                                    COUNTS.map((c) => el ("td", {class : "n " + c},
                                                          fmtNum (run.tables[n][c]))))));
}

function listDetails (title, items, fmt)
{
    if (!items || !items.length)
        return null;
    return el (
        "details", {class : title},
        el ("summary", {}, t ("{title} ({count})", {title : t (title), count : items.length})),
        el ("ul", {}, items.map((w) => el ("li", {}, fmt (w)))));
}

function fmtIssue (w)
{
    return [
        w.table, w.file && (w.file + (w.line ? ":" + w.line : "")), w.field, w.reason,
        w.raw_value && t ("raw: {value}", {value : w.raw_value})
    ].filter(Boolean)
        .join(" · ");
}

/* a warning summary (one per table, file, field and reason in a run):
   where, why, how many lines, the first examples; every line on demand,
   200 a page (GET /api/warnings/ID/lines) */
function fmtWarning (w)
{
    const where = [ w.table, w.file, w.field, w.reason ].filter(Boolean).join(" · ");
    const examples = (w.examples || [])
                         .map((e) => e.line + (e.raw_value ? " (" + e.raw_value + ")" : ""))
                         .join(", ");
    const box = el ("div", {class : "warning-lines"});
    return el ("span", {class : "warning"}, where, " · ",
               w.count === 1 ? t ("1 line") : t ("{count} lines", {count : fmtNum (w.count)}),
               examples ? " · " + t ("examples: {list}", {list : examples}) : "",
               w.count > (w.examples || []).length ? el ("button", {
                   class : "secondary btn-lines",
                   onclick : () => {
                       delete box.dataset.after;
                       showWarningLines (w, box);
                   }
               },
                                                         t ("all lines"))
                                                   : null,
               box);
}

async function showWarningLines (w, box)
{
    const after = box.dataset.after ? "&after=" + box.dataset.after : "";
    const page =
        await guarded (() => api ("GET", "/api/warnings/" + w.id + "/lines?limit=200" + after));
    if (!page)
        return;
    const more = page.next_after === null ? null
                                          : el ("button", {
                                                class : "secondary",
                                                onclick : () => {
                                                    box.dataset.after = page.next_after;
                                                    showWarningLines (w, box);
                                                }
                                            },
                                                t ("next"));
    box.replaceChildren(el ("p", {class : "lines"},
                            page.lines.map((n) => (w.file ? w.file + ":" : "") + n).join(", ")),
                        more);
}

async function showRejects (run, box)
{
    const offset = Number (box.dataset.offset || 0);
    const rows = await guarded (
        () => api ("GET", "/api/runs/" + run.id + "/rejects?limit=50&offset=" + offset));
    if (!rows)
        return;
    const table =
        el ("table", {class : "rejects"},
            el ("tr", {}, [ "reason", "file", "line", "raw" ].map((h) => el ("th", {}, t (h)))),
            rows.map((r) => el ("tr", {class : "reject"}, el ("td", {class : "reason"}, r.reason),
                                el ("td", {}, r.file || ""),
                                el ("td", {class : "n line"}, r.line === null ? "" : r.line),
                                el ("td", {}, el ("pre", {class : "raw"}, r.raw || "")))));
    const nav = el ("p", {},
                    offset > 0 ? el ("button", {
                        class : "secondary",
                        onclick : () => {
                            box.dataset.offset = Math.max(0, offset - 50);
                            showRejects (run, box);
                        }
                    },
                                     t ("previous"))
                               : null,
                    rows.length === 50 ? el ("button", {
                        class : "secondary",
                        onclick : () => {
                            box.dataset.offset = offset + 50;
                            showRejects (run, box);
                        }
                    },
                                             t ("next"))
                                       : null);
    box.replaceChildren(rows.length ? table : el ("p", {}, t ("no reject")), nav);
}

/* a cursor, long ones (iSaVigne's file hashes) folded */
function cursorCell (name, value)
{
    const label = t (name);
    if (!value)
        return el ("div", {}, t ("{label}: —", {label}));
    if (value.length <= 32)
        return el ("div", {}, t ("{label}: {value}", {label, value}));
    return el ("details", {},
               el ("summary", {}, t ("{label} ({length} chars)", {label, length : value.length})),
               el ("pre", {class : "raw"}, value));
}

/* the export files a run left unread because their columns changed
   (the cursor's pending_layouts), each with a button that accepts them */
function layoutChanges (name, cursorText)
{
    let pending = {};
    try {
        pending = (JSON.parse(cursorText || "{}") || {}).pending_layouts || {};
    } catch (e) {
        return null;
    }
    const files = Object.keys(pending);
    if (!files.length)
        return null;
    const list = (names) => (names || []).join(", ") || "—";
    return el (
        "div", {class : "layout-changes", id : "layout-changes"},
        el ("h2", {}, t ("Column changes")),
        el ("p", {class : "meta"},
            t ("These export files were not loaded: their columns changed since the columns "
               + "accepted. Check the export (and the mapping), then accept them; the next "
               + "sync loads the file.")),
        files.map((file) => el (
            "p", {class : "layout-change", "data-file" : file},
            el ("strong", {}, file), " ",
            t ("missing: {missing}; added: {added}",
               {missing : list (pending[file].missing), added : list (pending[file].added)}),
            " ",
            el ("button", {
                class : "secondary btn-accept-layout",
                onclick : async (e) => {
                    const r = await guarded (
                        () => api ("POST",
                                   "/api/connectors/" + encodeURIComponent (name) + "/accept-layout",
                                   {file}));
                    if (r)
                        e.target.closest(".layout-change")
                            .replaceWith(el ("p", {class : "layout-change msg-ok", "data-file" : file},
                                             t ("columns of {file} accepted: the next sync loads it",
                                                {file})));
                }
            },
                t ("Accept the new columns")))));
}

function runRow (run)
{
    const rejected = Object.values(run.tables || {}).reduce((s, tb) => s + (tb.rejected || 0), 0);
    const box = el ("div", {class : "rejects-box"});
    return el (
        "tr", {class : "run", "data-run" : run.id}, el ("td", {class : "n"}, "#" + run.id),
        el ("td", {}, badge (run.status)), el ("td", {}, fmtTime (run.started_at || run.queued_at)),
        el ("td", {class : "n"},
            run.duration_s === null || run.duration_s === undefined
                ? ""
                : t ("{seconds} s", {seconds : fmtFixed (run.duration_s, 1)})),
        el ("td", {}, runTables (run)),
        el ("td", {class : "cursor"}, cursorCell ("before", run.cursor_before),
            cursorCell ("after", run.cursor_after)),
        el ("td", {}, listDetails ("warnings", run.warnings, fmtWarning),
            run.warnings_total > (run.warnings || []).length
                ? el ("div", {class : "meta"},
                      t ("{count} warnings in all", {count : run.warnings_total}))
                : null,
            listDetails ("errors", run.errors, (e) => typeof e === "string" ? e : fmtIssue (e)),
            rejected
                ? el ("button",
                      {class : "secondary btn-rejects", onclick : () => showRejects (run, box)},
                      t ("rejects ({count})", {count : rejected}))
                : null,
            box));
}

function totalRecords (run)
{
    return Object.values(run.tables || {}).reduce((s, tb) => s + (tb.extracted || 0), 0);
}

/* an inline SVG bar chart of values over runs (oldest left) */
function barChart (title, runs, value, unit)
{
    const W = 520, H = 180, L = 50, B = 30, T = 22;
    const vals = runs.map(value);
    const max = Math.max(1, ...vals);
    const bw = Math.min(40, (W - L - 10) / Math.max(1, runs.length));
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("class", "chart");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", title);
    const add = (tag, attrs, text) => {
        const e = document.createElementNS(ns, tag);
        for (const [k, v] of Object.entries(attrs))
            e.setAttribute(k, v);
        if (text !== undefined)
            e.textContent = text;
        svg.appendChild(e);
        return e;
    };
    add ("text", {x : L, y : 14}, title);
    add ("line", {x1 : L, y1 : H - B, x2 : W - 5, y2 : H - B, stroke : "#999"});
    add ("line", {x1 : L, y1 : T, x2 : L, y2 : H - B, stroke : "#999"});
    add ("text", {x : L - 4, y : T + 4, "text-anchor" : "end"},
         fmtNum (max, max >= 100 ? 0 : 1) + unit);
    add ("text", {x : L - 4, y : H - B, "text-anchor" : "end"}, "0");
    runs.forEach((r, i) => {
        const h = (H - B - T) * vals[i] / max;
        const bar = add ("rect", {
            x : L + i * bw + 1,
            y : H - B - h,
            width : Math.max(1, bw - 2),
            height : h,
            fill : r.status === "success" ? "#6b1d3a" : "#b00020"
        });
        const tip = document.createElementNS(ns, "title");
        tip.textContent = "#" + r.id + ": " + fmtNum (vals[i], vals[i] >= 100 ? 0 : 1) + unit;
        bar.appendChild(tip);
    });
    if (runs.length) {
        add ("text", {x : L, y : H - 10}, "#" + runs[0].id);
        add ("text", {x : W - 5, y : H - 10, "text-anchor" : "end"},
             "#" + runs[runs.length - 1].id);
    }
    return svg;
}

async function pageConnector (main, name)
{
    const [c, runs] = await Promise.all([
        api ("GET", "/api/connectors/" + encodeURIComponent (name)),
        api ("GET", "/api/runs?connector=" + encodeURIComponent (name) + "&limit=50")
    ]);
    const msg = el ("div", {class : "card-msg", id : "detail-msg"});
    const settings = Object.entries(c.settings || {}).map(([ k, v ]) => k + "=" + v);
    for (const s of c.secrets || [])
        settings.push(s + "=" + t ("(secret, write-only)"));
    const chrono = runs.slice().reverse();
    main.replaceChildren(
        el ("h2", {}, name, " ", badge (c.last_run ? c.last_run.status : "idle")),
        el ("p", {class : "meta"},
            t (c.schedule ? "type {type}, schedule {schedule}" : "type {type}",
               {type : c.type, schedule : c.schedule})),
        c.cursor ? cursorCell ("cursor", c.cursor) : null,
        layoutChanges (name, c.cursor) || "",
        el ("p", {class : "meta settings"}, settings.join(" · ")),
        el ("p", {class : "actions"},
            el ("button", {
                id : "btn-rerun",
                onclick : async (e) => {
                    if (await syncConnector (name, msg, e.target))
                        route ();
                }
            },
                t ("Re-run sync")),
            " ",
            el ("button", {
                class : "secondary",
                id : "btn-rerun-full",
                onclick : async (e) => {
                    if (await syncConnector (name, msg, e.target, true))
                        route ();
                }
            },
                t ("Full re-sync")),
            " ",
            el ("a", {class : "button secondary", href : "#/mapping/" + encodeURIComponent (name)},
                t ("Mapping"))),
        msg,
        chrono.length ? el ("div", {class : "charts"},
                            barChart (t ("records per run"), chrono, totalRecords, ""),
                            barChart (t ("run duration"), chrono, (r) => r.duration_s || 0, " s"))
                      : null,
        el ("h2", {}, t ("Runs ({count}, newest first)", {count : runs.length})),
        el ("div", {class : "table-wrap"},
            el ("table", {id : "runs"},
                el ("tr", {},
                    [
                        "run", "status", "started", "duration", "counts", "cursor",
                        "warnings, errors, rejects"
                    ].map((h) => el ("th", {}, t (h)))),
                runs.map(runRow))));
}

/* ---------- Data quality ---------- */

async function pageQuality (main)
{
    const q = await api ("GET", "/api/quality");
    main.replaceChildren(
        el ("h2", {}, t ("Data quality")),
        el ("p", {class : "meta"}, t ("Score per table: {formula}. ", {formula : q.score_formula}),
            el ("a",
                {href : "/api/quality/anomalies.csv", download : "anomalies.csv", id : "csv-link"},
                t ("Download the anomalies (CSV)")),
            " · ",
            el ("a", {href : "/api/quality.pdf", download : "quality-report.pdf", id : "pdf-link"},
                t ("Download the report (PDF)"))),
        el ("div", {class : "cards"},
            q.tables.map(
                (tb) => el (
                    "div", {class : "card quality-card", "data-table" : tb.table},
                    el ("h3", {}, tb.table,
                        el ("span", {class : "score"},
                            tb.score === null ? "—" : fmtNum (tb.score))),
                    el ("div", {class : "meta"},
                        t ("{rows} rows · completeness {percent} %",
                           {rows : fmtNum (tb.rows), percent : fmtNum (tb.completeness_mean)})),
                    el ("div", {class : "meta"},
                        t ("invalid {invalid} · duplicates {duplicate} · orphans {orphan}", tb))))),
        ...q.tables.map(qualityTable));
}

function qualityTable (q)
{
    return el (
        "section", {class : "quality", id : "q-" + q.table}, el ("h2", {}, q.table),
        el ("div", {class : "charts"},
            el ("div", {class : "table-wrap"},
                el ("table", {class : "completeness"},
                    el ("tr", {}, el ("th", {}, t ("field")), el ("th", {}, t ("filled")),
                        el ("th", {}, "%"), el ("th", {}, "")),
                    q.completeness.map(
                        (c) => el ("tr", {}, el ("td", {}, c.column),
                                   el ("td", {class : "n"}, fmtNum (c.filled)),
                                   el ("td", {class : "n"}, fmtNum (c.percent)),
                                   el ("td", {},
                                       el ("div", {class : "bar"},
                                           el ("span", {style : "width:" + c.percent + "%"}))))))),
            el ("div", {class : "table-wrap"},
                el ("table", {class : "checks"},
                    el ("tr", {},
                        [ "check", "kind", "rows", "examples" ].map((h) => el ("th", {}, t (h)))),
                    q.checks.map(
                        (k) =>
                            el ("tr", {class : "check", "data-check" : k.check},
                                el ("td", {}, k.label), el ("td", {}, k.kind),
                                el ("td", {class : "n count"}, k.count),
                                el ("td", {class : "examples"},
                                    k.sample.length
                                        ? el ("details", {},
                                              el ("summary", {},
                                                  t ("{count} shown", {count : k.sample.length})),
                                              el ("ul", {},
                                                  k.sample.map(
                                                      (s) => el ("li", {},
                                                                 s.key + ": " + (s.detail || "")))))
                                        : "")))))));
}

/* ---------- Mapping ---------- */

async function pageMapping (main, name)
{
    const m =
        await api ("GET", "/api/mapping" + (name ? "?connector=" + encodeURIComponent (name) : ""));
    main.replaceChildren(
        el ("h2", {},
            t (name ? "Mapping of {name}: canonical fields vs source columns"
                    : "Mapping: canonical fields vs source columns",
               {name})),
        el ("p", {class : "meta"}, m.source),
        name ? el ("section", {class : "preview"}, el ("h3", {}, t ("Preview")),
                   el ("p", {class : "meta"},
                       t ("The first rows of each export file as read, and what the normalizer " +
                          "makes of them. Nothing is loaded.")),
                   el ("button", {id : "preview-btn", onclick : () => previewConnector (name)},
                       t ("Preview the first rows")),
                   el ("span", {id : "preview-msg", class : "card-msg"}),
                   el ("div", {id : "preview"}))
             : "",
        ...m.tables.map(
            (tb) => el ("section", {class : "mapping"}, el ("h3", {}, tb.file + " → " + tb.table),
                        el ("div", {class : "table-wrap"},
                            el ("table", {},
                                el ("tr", {},
                                    [
                                        "canonical columns", "input field",
                                        "source columns (first found wins)"
                                    ].map((h) => el ("th", {}, t (h)))),
                                tb.fields.map((f) => el ("tr", {"data-field" : f.field},
                                                         el ("td", {class : "canonical"},
                                                             f.canonical.join(", ") || "—"),
                                                         el ("td", {}, f.field),
                                                         el ("td", {class : "columns"},
                                                             f.columns.join(" | ")))))))));
}

/* The first rows of each file of a connector through the normalizer
   (a connector test with "preview": the extractor reads them, the
   orchestrator applies the normalizer's rules; nothing is loaded). */
async function previewConnector (name)
{
    const msg = document.getElementById("preview-msg");
    const out = document.getElementById("preview");
    msg.className = "card-msg progress";
    msg.textContent = t ("reading…");
    await guarded (async () => {
        const test = await api ("POST", "/api/connectors/" + encodeURIComponent (name) + "/test",
                                {preview : 5});
        for (let i = 0; i < 120; i++) {
            const r = await api ("GET", "/api/tests/" + test.test_id);
            if (r.status === "pending" || r.status === "running" || r.status === "sent") {
                await sleep (500);
                continue;
            }
            const res = r.result || {};
            if (!res.preview) {
                msg.className = "card-msg msg-err";
                msg.textContent = t ("no preview: {why}", {why : summarizeTest (res)});
                return;
            }
            msg.className = "card-msg msg-ok";
            msg.textContent = t ("{n} file(s) read", {n : res.preview.length});
            out.replaceChildren(...res.preview.map(previewFile));
            return;
        }
        throw new Error ("preview: no answer from an extractor");
    });
}

function previewValue (v)
{
    return v === null || v === undefined ? "∅" : Array.isArray(v) ? v.join(", ") : String (v);
}

function previewFile (f)
{
    const header = f.header || [];
    const inputs = f.inputs || [];
    const rows = f.rows || [];
    return el (
        "section", {class : "preview-file", "data-file" : f.file},
        el ("h4", {}, f.file + " → " + f.table + " (" + f.status + ")"),
        f.error ? el ("p", {class : "msg-err"}, f.error) : "",
        rows.length
            ? el ("div", {class : "table-wrap"},
                  el ("table", {},
                      el ("tr", {}, el ("th", {}, t ("line")), el ("th", {}, t ("as read")),
                          el ("th", {}, t ("canonical values")), el ("th", {}, t ("warnings"))),
                      rows.map((r) => el (
                                   "tr", {class : "preview-row", "data-line" : r.line},
                                   el ("td", {class : "line"}, String (r.line)),
                                   el ("td", {class : "read"},
                                       Array.isArray(r.fields)
                                           ? el ("ul", {},
                                                 r.fields.map(
                                                     (v, i) => el ("li", {},
                                                                   (header[i] || inputs[i] || "") +
                                                                       ": " + v)))
                                           : el ("pre", {class : "raw"}, previewValue (r.fields))),
                                   r.reject ? el ("td", {class : "reject msg-err"},
                                                  t ("rejected: {why}", {why : r.reject}))
                                            : el ("td", {class : "values"},
                                                  el ("ul", {},
                                                      (r.values || [])
                                                          .filter(([ k, v ]) => v !== null)
                                                          .map(([ k, v ]) => el (
                                                                   "li", {"data-col" : k},
                                                                   k + " = " + previewValue (v))))),
                                   el ("td", {class : "warnings"},
                                       (r.warnings || [])
                                           .map((w) => w.field + ": " + w.reason +
                                                       (w.raw ? " (" + w.raw + ")" : ""))
                                           .join("; "))))))
            : el ("p", {class : "meta"}, t ("no data rows")));
}

/* ---------- Customers and recommendations ---------- */

function campaignFlag (ok, block)
{
    const why = {
        email_opt_out : "opted out of emails",
        email_invalid : "email invalid",
        no_email : "no email"
    };
    return el ("span", {class : "badge " + (ok ? "success" : "failed"), id : "campaign-flag"},
               ok ? t ("campaign ok")
                  : t ("no campaign: {why}", {why : t (why[block] || block || "excluded")}));
}

async function pageCustomers (main)
{
    const params = new URLSearchParams (location.hash.split("?")[1] || "");
    const q = params.get("q") || "";
    const input =
        el ("input",
            {type : "search", id : "cust-q", value : q, placeholder : t ("name, email or key")});
    const [found, precision] = await Promise.all([
        api ("GET", "/api/customers?limit=50&q=" + encodeURIComponent (q)),
        api ("GET", "/api/reco/precision")
    ]);
    const msg = el ("div", {class : "card-msg", id : "reco-msg"});
    main.replaceChildren(
        el ("h2", {}, t ("Customers")),
        el ("form", {
            class : "search",
            onsubmit : (e) => {
                e.preventDefault();
                location.hash = "#/customers?q=" + encodeURIComponent (input.value);
            }
        },
            input, " ", el ("button", {type : "submit", id : "cust-search"}, t ("Search"))),
        el ("div", {class : "table-wrap"},
            el ("table", {id : "customers"},
                el ("tr", {},
                    [
                        "customer", "email", "segment", "spent", "orders", "last purchase",
                        "campaign"
                    ].map((h) => el ("th", {}, t (h)))),
                found.map(
                    (c) => el (
                        "tr", {"data-key" : c.customer_key},
                        el ("td", {},
                            el ("a", {href : "#/customer/" + encodeURIComponent (c.customer_key)},
                                [ c.first_name, c.last_name ].filter(Boolean).join(" ") ||
                                    c.customer_key),
                            el ("div", {class : "meta"}, c.customer_key)),
                        el ("td", {}, c.email || "—"),
                        el ("td", {}, c.segment ? t (c.segment) : "—"),
                        el ("td", {class : "n"}, fmtMoney (c.total_spent)),
                        el ("td", {class : "n"},
                            c.purchase_count === null ? "—" : fmtNum (c.purchase_count)),
                        el ("td", {}, fmtDate (c.last_purchase_date)),
                        el ("td", {}, t (c.campaign_ok ? "ok" : "excluded")))))),
        found.length ? null : el ("p", {class : "meta"}, t ("No customer matches.")),
        el ("h2", {}, t ("Recommendations")), precisionPanel (precision),
        el ("p", {class : "actions"},
            el ("a",
                {
                    class : "button secondary",
                    id : "campaign-csv",
                    href : "/api/reco/campaign.csv",
                    download : "campaign.csv"
                },
                t ("Download the campaign CSV")),
            " ",
            el ("button",
                {
                    id : "btn-reco-all",
                    onclick :
                        async (e) => {
                            const r = await guarded (() => api ("POST", "/api/reco/run"));
                            if (r) {
                                msg.className = "card-msg msg-ok";
                                msg.textContent =
                                    t ("recommendation run {id} queued", {id : r.reco_run_id});
                            }
                        }
                },
                t ("Recompute for every customer"))),
        msg);
}

function precisionPanel (p)
{
    return el (
        "div", {class : "card", id : "precision"},
        el ("h3", {}, t ("Precision of past recommendations"),
            el ("span", {class : "score", id : "precision-value"}, pct (p.precision))),
        el ("div", {class : "meta"},
            t ("{followed} of {evaluated} followed by a click or a purchase within {days} days; {pending} too recent to judge",
               {
                   followed : fmtNum (p.followed),
                   evaluated : fmtNum (p.evaluated),
                   days : p.follow_days,
                   pending : fmtNum (p.pending)
               })),
        el ("div", {class : "meta"},
            t ("staff verdicts: {good} good, {bad} bad",
               {good : p.feedback.good, bad : p.feedback.bad})),
        el ("div", {class : "table-wrap"},
            el ("table", {},
                el ("tr", {},
                    [ "signal", "followed", "precision" ].map((h) => el ("th", {}, t (h)))),
                Object.entries(p.by_signal)
                    .map(([ s, v ]) => el ("tr", {}, el ("td", {}, s),
                                           el ("td", {class : "n"},
                                               fmtNum (v.followed) + " / " + fmtNum (v.evaluated)),
                                           el ("td", {class : "n"}, pct (v.precision)))))));
}

async function refreshReco (key, msg, button)
{
    button.disabled = true;
    msg.className = "card-msg progress";
    msg.textContent = t ("recomputing…");
    const done = await guarded (async () => {
        const q =
            await api ("POST", "/api/customers/" + encodeURIComponent (key) + "/recommendations");
        for (let i = 0; i < 600; i++) {
            const r = await api ("GET", "/api/reco/runs/" + q.reco_run_id);
            if (r.status === "success")
                return true;
            if (r.status === "failed")
                throw new Error (t ("recommendation run {id} failed: {error}",
                                    {id : r.id, error : r.error || ""}));
            msg.textContent =
                t ("recommendation run {id} {status}…", {id : r.id, status : t (r.status)});
            await sleep (500);
        }
        throw new Error (t ("the recommender did not run the job (is it running?)"));
    });
    button.disabled = false;
    if (done)
        route ();
    else {
        msg.className = "card-msg msg-err";
        msg.textContent = document.getElementById("error").textContent;
    }
}

async function sendVerdict (key, r, verdict, reasonInput, msg)
{
    const body = {verdict};
    if (reasonInput.value.trim())
        body.reason = reasonInput.value.trim();
    const a = await guarded (() => api ("POST",
                                        "/api/customers/" + encodeURIComponent (key) +
                                            "/recommendations/" +
                                            encodeURIComponent (r.product_key) + "/feedback",
                                        body));
    if (!a) {
        msg.className = "card-msg msg-err";
        msg.textContent = document.getElementById("error").textContent;
        return;
    }
    route ();
}

function recoCard (key, r)
{
    const msg = el ("div", {class : "card-msg"});
    const reason = el (
        "input",
        {type : "text", class : "reason", maxlength : 500, placeholder : t ("why? (optional)")});
    return el (
        "div", {class : "card reco", "data-product" : r.product_key},
        el ("h3", {}, el ("span", {}, r.rank + ". " + (r.product_name || r.product_key)),
            r.verdict ? badge (r.verdict === "good" ? "good" : "bad") : null),
        el ("div", {class : "meta"},
            t ("{product_key} · score {score}",
               {product_key : r.product_key, score : fmtFixed (r.score, 3)})),
        el ("ul", {class : "reasons"},
            (r.reasons || []).map((w) => el ("li", {}, w.text || w.signal))),
        el ("div", {class : "actions"}, reason,
            el ("button",
                {class : "btn-good", onclick : () => sendVerdict (key, r, "good", reason, msg)},
                t ("Good")),
            el ("button", {
                class : "secondary btn-bad",
                onclick : () => sendVerdict (key, r, "bad", reason, msg)
            },
                t ("Bad"))),
        msg);
}

async function pageCustomer (main, key)
{
    const path = "/api/customers/" + encodeURIComponent (key);
    const [c, reco] =
        await Promise.all([ api ("GET", path), api ("GET", path + "/recommendations") ]);
    const a = c.aggregates, tot = c.totals;
    const msg = el ("div", {class : "card-msg", id : "refresh-msg"});
    main.replaceChildren(
        el ("h2", {}, [ c.first_name, c.last_name ].filter(Boolean).join(" ") || key, " ",
            badge (c.segment || "idle")),
        el ("p", {class : "meta"}, key + (c.email ? " · " + c.email : ""), " ",
            campaignFlag (reco.campaign_ok, reco.campaign_block),
            reco.win_back ? el ("span", {class : "badge partial"}, t ("win-back")) : null),
        el ("div", {class : "cards", id : "aggregates"},
            [
                [ "purchases", a.purchase_count === null ? "—" : fmtNum (a.purchase_count) ],
                [ "total spent", fmtMoney (a.total_spent) ],
                [ "average order", fmtMoney (a.avg_order_value) ],
                [ "first purchase", fmtDate (a.first_purchase_date) ],
                [ "last purchase", fmtDate (a.last_purchase_date) ],
                [ "bottles (75 cl eq.)", fmtNum (tot.bottles_75cl_eq) ]
            ].map(([ k, v ]) => el ("div", {class : "card"}, el ("div", {class : "meta"}, t (k)),
                                    el ("div", {class : "score"}, String (v))))),
        el ("h2", {}, t ("Recommendations")),
        el ("p", {class : "meta"},
            reco.run_id ? t ("run {id}, model {model}, {time}", {
                id : reco.run_id,
                model : reco.model_version,
                time : fmtTime (reco.computed_at)
            })
                        : t ("none yet"),
            " ",
            el ("button", {id : "btn-refresh", onclick : (e) => refreshReco (key, msg, e.target)},
                t ("Refresh"))),
        msg,
        el ("div", {class : "cards", id : "recommendations"},
            reco.recommendations.map((r) => recoCard (key, r))),
        el ("h2", {}, t ("Purchase history ({lines} lines, {bottles} bottles 75 cl eq., {money})", {
                lines : fmtNum (tot.lines),
                bottles : fmtNum (tot.bottles_75cl_eq),
                money : fmtMoney (tot.money)
            })),
        el ("div", {class : "table-wrap"},
            el ("table", {id : "history"},
                el ("tr", {},
                    [ "date", "order", "product", "bottles (75 cl eq.)", "amount" ].map(
                        (h) => el ("th", {}, t (h)))),
                c.history.map((h) => el ("tr", {}, el ("td", {}, fmtDate (h.date)),
                                         el ("td", {}, h.order_id || "—"),
                                         el ("td", {}, (h.product_name || "") + " ",
                                             el ("span", {class : "meta"}, h.product_key || "")),
                                         el ("td", {class : "n"},
                                             h.quantity_bottles_75cl_eq === null
                                                 ? "—"
                                                 : fmtNum (h.quantity_bottles_75cl_eq)),
                                         el ("td", {class : "n"}, fmtMoney (h.price_total)))))));
}

/* ---------- Router ---------- */

async function route ()
{
    timers.forEach(clearTimeout);
    timers = [];
    const main = document.getElementById("main");
    const parts = (location.hash || "#/sources").slice(2).split("/").map(decodeURIComponent);
    const section = parts[0].split("?")[0].replace(/^customer$/, "customers");
    for (const a of document.querySelectorAll("nav a"))
        a.classList.toggle("active", a.id === "nav-" + section);
    try {
        if (parts[0] === "connector" && parts[1])
            await pageConnector (main, parts[1]);
        else if (parts[0] === "quality")
            await pageQuality (main);
        else if (parts[0] === "mapping")
            await pageMapping (main, parts[1]);
        else if (parts[0].startsWith("customers"))
            await pageCustomers (main);
        else if (parts[0] === "customer" && parts[1])
            await pageCustomer (main, parts[1]);
        else if (parts[0] === "alerts")
            await pageAlerts (main);
        else
            await pageSources (main);
        main.dataset.ready = location.hash || "#/sources";
    } catch (e) {
        showError (e.message);
        main.dataset.ready = "error";
    }
}

window.addEventListener("hashchange", () => {
    showError ("");
    route ();
});
translateStatic ();
/* the first route once every script of the page is there (alerts.js) */
window.addEventListener("DOMContentLoaded", route);
