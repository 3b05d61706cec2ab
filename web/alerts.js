/* vendange web page: the Alerts tab (README, Alerts): open alerts and
   their history with each delivery, the rules with their defaults and
   what is set, the channels, and a test button. Loaded after app.js
   (el, api, t, fmt*). */
"use strict";

function alertDeliveries (a)
{
    if (!a.deliveries.length)
        return el ("span", {class : "meta"}, t ("no channel"));
    return el (
        "ul", {class : "deliveries"},
        a.deliveries.map(
            (d) =>
                el ("li", {"data-status" : d.status},
                    t (d.event === "opened" ? "opened" : "resolved") + " → " + d.channel + ": ",
                    el ("span", {class : "badge " + d.status}, t (d.status)),
                    d.attempts > 1 ? " " + t ("{n} attempts", {n : d.attempts}) : "",
                    d.last_error && d.status !== "sent" ? el ("div", {class : "meta"}, d.last_error)
                                                        : "")));
}

function alertRow (a)
{
    return el ("tr", {
        "data-rule" : a.rule,
        "data-subject" : a.subject,
        class : a.resolved_at ? "resolved" : "open"
    },
               el ("td", {},
                   el ("span", {class : "badge " + (a.resolved_at ? "success" : "failed")},
                       t (a.resolved_at ? "resolved" : "open"))),
               el ("td", {}, a.rule), el ("td", {}, a.subject), el ("td", {}, a.detail),
               el ("td", {}, fmtTime (a.opened_at)),
               el ("td", {}, a.resolved_at ? fmtTime (a.resolved_at) : "—"),
               el ("td", {}, alertDeliveries (a)));
}

function alertRules (rules)
{
    return el (
        "div", {class : "table-wrap"},
        el ("table", {id : "alert-rules"},
            el ("tr", {},
                [ "rule", "opens when", "settings (default)", "set" ].map(
                    (h) => el ("th", {}, t (h)))),
            rules.map(
                (r) => el (
                    "tr", {"data-rule" : r.rule}, el ("td", {}, r.rule), el ("td", {}, r.summary),
                    el ("td", {}, r.settings.map((p) => p.key + " (" + p.default + ")").join(", ")),
                    el ("td", {},
                        r.overrides.map((o) =>
                                            el ("div", {},
                                                (o.connector || t ("every connector")) + ": " +
                                                    (o.enabled === false ? t ("off") + " " : "") +
                                                    JSON.stringify(o.settings))))))));
}

async function testChannels ()
{
    const msg = document.getElementById("alert-test-msg");
    msg.textContent = t ("sending…");
    try {
        const r = await api ("POST", "/api/alerts/test", {});
        msg.textContent = t ("{n} test notification(s) queued", {n : r.deliveries.length});
        timers.push(setTimeout (route, 2000));
    } catch (e) {
        msg.textContent = e.message;
    }
}

async function pageAlerts (main)
{
    const [list, rules, channels] = await Promise.all([
        api ("GET", "/api/alerts?all=true"), api ("GET", "/api/alerts/rules"),
        api ("GET", "/api/alerts/channels")
    ]);
    main.replaceChildren(
        el ("h2", {}, t ("Alerts")),
        el ("p", {class : "meta", id : "alerts-open"},
            t ("{n} open alert(s)", {n : fmtNum (list.open)})),
        el ("div", {class : "table-wrap"},
            el ("table", {id : "alerts"},
                el ("tr", {},
                    [ "state", "rule", "subject", "detail", "opened", "resolved", "deliveries" ]
                        .map((h) => el ("th", {}, t (h)))),
                list.alerts.map(alertRow))),
        list.alerts.length ? "" : el ("p", {class : "meta"}, t ("no alert so far")),
        el ("h3", {}, t ("Channels")),
        el ("div", {class : "table-wrap"},
            el ("table", {id : "alert-channels"},
                el ("tr", {},
                    [ "name", "type", "settings", "secrets" ].map((h) => el ("th", {}, t (h)))),
                channels.map((c) => el ("tr", {"data-channel" : c.name}, el ("td", {}, c.name),
                                        el ("td", {}, c.type),
                                        el ("td", {}, JSON.stringify(c.settings)),
                                        el ("td", {}, c.secrets.join(", ")))))),
        channels.length ? ""
                        : el ("p", {class : "meta"},
                              t ("no channel: vendange alerts channel add NAME --type smtp|http")),
        el ("p", {},
            el ("button", {id : "alert-test", onclick : testChannels, disabled : !channels.length},
                t ("Send a test notification")),
            " ", el ("span", {id : "alert-test-msg", class : "card-msg"})),
        el ("h3", {}, t ("Rules")),
        el ("p", {class : "meta"},
            t ("Set with vendange alerts set RULE [--connector NAME] KEY=VALUE.")),
        alertRules (rules.rules));
}
