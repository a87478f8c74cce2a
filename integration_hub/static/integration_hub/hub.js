// A little JavaScript for the hub's pages (no build step, no library). Every page works
// without it; with it, sync buttons send their form in the background and the page follows
// the progress live: connection syncs through the user's event queue (/v2.1/queues/{id}),
// accounting syncs through their History. Polling backs off while nothing happens.
"use strict";

(function () {
  const STEP_NAMES = {
    ACCOUNTS_SEARCH: "Finding accounts",
    ACCOUNT: "Reading accounts",
    USERS: "Reading users",
    LOCATIONS: "Reading locations and services",
    AGREEMENTS: "Reading agreements",
    PRODUCTS: "Reading products",
    INVOICES: "Checking invoices",
    LIST_ACCOUNTS: "Listing accounts",
  };
  const STATUS_NAMES = { PENDING: "Pending", IN_PROGRESS: "In progress", SUCCESS: "Success", ERROR: "Error" };

  function csrfToken(form) {
    const input = (form || document).querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function setBadge(element, status, label) {
    if (!element) return;
    element.dataset.status = status;
    element.textContent = label || STATUS_NAMES[status] || status;
  }

  function timeText(unixSeconds) {
    return new Date(unixSeconds * 1000).toLocaleString();
  }

  function fillTimes(root) {
    root.querySelectorAll("time[data-unix]").forEach((el) => {
      const seconds = Number(el.dataset.unix);
      el.dateTime = new Date(seconds * 1000).toISOString();
      el.textContent = timeText(seconds);
    });
  }

  // Replace what the element of this id holds with what it holds in a fresh copy of the page
  // (no reload; the element itself stays, so a live region it is keeps announcing).
  async function refreshFragment(id) {
    const target = document.getElementById(id);
    if (!target) return;
    const response = await fetch(window.location.href, { headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = doc.getElementById(id);
    if (fresh) {
      target.replaceChildren(...fresh.childNodes);
      fillTimes(target);
    }
  }

  // ---- connection syncs, followed through the event queue -----------------------------
  function eventQueueWatcher(root) {
    const url = root.dataset.queueUrl;
    const log = root.querySelector("[data-progress-log]");
    let after = Number(root.dataset.after || 0);
    let delay = 1000;
    let timer = null;
    const active = new Set(
      Array.from(root.querySelectorAll("[data-connection-status][data-active=true]")).map(
        (el) => el.dataset.connectionStatus
      )
    );
    // The user's one queue carries every connection's events: this page shows its own only.
    const shown = new Set(
      Array.from(root.querySelectorAll("[data-connection-status]")).map((el) => el.dataset.connectionStatus)
    );

    function note(text) {
      if (!log) return;
      const item = document.createElement("li");
      item.textContent = text;
      log.appendChild(item);
      while (log.children.length > 8) log.removeChild(log.firstChild);
    }

    function connectionOf(event) {
      const resource = event.resource || {};
      if (resource.connection_id) return String(resource.connection_id);
      if (event.resource_type === "CONNECTION" && resource.id) return String(resource.id);
      return null;
    }

    function apply(event) {
      const connection = connectionOf(event);
      if (!connection || !shown.has(connection)) return;
      const type = event.event_type;
      const badge = connection && root.querySelector(`[data-connection-status="${connection}"]`);
      const step = connection && root.querySelector(`[data-connection-step="${connection}"]`);
      if (type === "SYNC_ALL_SUCCESS" || type === "SYNC_ALL_ERROR") {
        const resource = event.resource || {};
        setBadge(badge, resource.status || (type === "SYNC_ALL_SUCCESS" ? "SUCCESS" : "ERROR"));
        if (step) step.textContent = type === "SYNC_ALL_SUCCESS" ? "Done" : `Failed: ${resource.error || ""}`;
        (resource.channels || []).forEach((channel) => {
          const row = root.querySelector(`[data-channel="${channel.channel_definition_id}"]`);
          if (!row) return;
          setBadge(row.querySelector(".badge"), channel.status, channel.status.charAt(0) + channel.status.slice(1).toLowerCase());
          const cell = row.querySelector("[data-field=last_success_date]");
          if (cell && channel.last_success_date) cell.textContent = timeText(channel.last_success_date);
        });
        note(`${resource.name || "Connection"}: sync ${type === "SYNC_ALL_SUCCESS" ? "succeeded" : "failed"}`);
        if (connection) active.delete(connection);
        if (document.querySelector("[data-refresh-on-done]")) refreshFragment("accounts");
        return;
      }
      const name = type.replace(/_(SUCCESS|ERROR)$/, "");
      const failed = type.endsWith("_ERROR");
      if (STEP_NAMES[name] || name === "LIST_ACCOUNTS") {
        if (connection) active.add(connection);
        setBadge(badge, "IN_PROGRESS");
        if (step) step.textContent = `${STEP_NAMES[name] || name}${failed ? " failed" : "…"}`;
        const what = (event.resource && event.resource.name) || "";
        note(`${STEP_NAMES[name] || name}${what ? " (" + what + ")" : ""}: ${failed ? "failed" : "done"}`);
      }
    }

    async function poll() {
      timer = null;
      let gotEvents = false;
      try {
        const response = await fetch(`${url}?after=${after}`, { headers: { Accept: "application/json" } });
        if ([401, 403, 404].includes(response.status)) {
          note("Signed out: reload the page to follow the sync.");
          return; // not ours to read any more: stop asking
        }
        if (response.ok) {
          const events = await response.json();
          events.forEach((event) => {
            after = Math.max(after, Number(event.id));
            apply(event);
          });
          gotEvents = events.length > 0;
        }
      } catch (error) {
        // the network hiccuped: try again after the backoff
      }
      delay = gotEvents ? 1000 : Math.min(delay * 1.5, 10000);
      if (active.size > 0 || gotEvents) timer = setTimeout(poll, delay);
    }

    function start(connectionIds) {
      connectionIds.forEach((id) => {
        active.add(String(id));
        setBadge(root.querySelector(`[data-connection-status="${id}"]`), "PENDING", "Queued");
        const step = root.querySelector(`[data-connection-step="${id}"]`);
        if (step) step.textContent = "Sync queued…";
      });
      delay = 1000;
      if (!url) {
        window.location.reload(); // a first connection's queue did not exist yet
        return;
      }
      if (!timer) timer = setTimeout(poll, delay);
    }

    if (url && active.size > 0) timer = setTimeout(poll, delay);
    return { start };
  }

  // ---- accounting syncs, followed through their History --------------------------------
  // The integration's page and each integration of the dashboard's panel: `root` carries the
  // History URL, whether a sync is under way, and the id of the part to refresh at its end.
  const RECORD_STATUS_NAMES = { Queued: "Queued", InProgress: "In progress", Success: "Success", Failed: "Failed" };

  function accountingWatcher(root) {
    const url = root.dataset.historyUrl;
    let delay = 2000;
    let timer = null;
    let asking = false; // a request is on its way
    let again = false; // a sync started meanwhile: what that request finds may be the last one

    function showStatus(value, text) {
      // looked up each time: refreshing the page's part replaces it
      const status = root.querySelector("[data-record-status]");
      if (!status) return;
      if (value) status.dataset.status = value;
      status.textContent = text;
    }

    async function poll() {
      timer = null;
      asking = true;
      again = false;
      let done = false;
      try {
        const response = await fetch(`${url}?pageSize=1`, { headers: { Accept: "application/json" } });
        if (response.status === 401 || response.status === 403) {
          asking = false;
          showStatus(null, "Sign in again to follow this sync.");
          return; // not allowed any more: stop asking
        }
        if (!response.ok) delay = Math.min(delay * 2, 30000);
        if (response.ok) {
          const page = await response.json();
          const latest = page.results[0];
          if (latest && !again) showStatus(latest.status, RECORD_STATUS_NAMES[latest.status] || latest.status);
          done = !latest || (latest.status !== "Queued" && latest.status !== "InProgress");
          const hinted = Number(response.headers.get("Retry-After"));
          delay = hinted > 0 ? hinted * 1000 : Math.min(delay * 1.5, 15000);
        }
      } catch (error) {
        delay = Math.min(delay * 2, 30000);
      }
      asking = false;
      if (again) {
        timer = setTimeout(poll, 1000);
      } else if (done) {
        root.dataset.active = "false";
        if (root.dataset.refresh) await refreshFragment(root.dataset.refresh);
      } else {
        timer = setTimeout(poll, delay);
      }
    }
    function start() {
      showStatus("Queued", "Queued");
      root.dataset.active = "true";
      delay = 1000;
      if (asking) {
        again = true;
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(poll, delay);
    }
    if (root.dataset.active === "true") timer = setTimeout(poll, delay);
    return { start };
  }

  // ---- forms sent in the background -----------------------------------------------------
  function wireSyncForms(watcherFor) {
    document.querySelectorAll("form[data-sync-form]").forEach((form) => {
      form.addEventListener("submit", async (submitEvent) => {
        const watcher = watcherFor(form);
        if (!watcher) return; // no live view here: let the form post normally
        submitEvent.preventDefault();
        const button = form.querySelector("button");
        if (button) button.disabled = true;
        try {
          const response = await fetch(form.action, {
            method: "POST",
            headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) },
            body: new FormData(form),
          });
          const body = await response.json().catch(() => ({}));
          if (response.status === 202) {
            watcher.start((body.connections || []).map((c) => c.id), body);
          } else {
            const message = form.querySelector("[data-form-message]") || form.appendChild(document.createElement("p"));
            message.dataset.formMessage = "";
            message.setAttribute("role", "status");
            message.textContent = body.detail || `Not started (${response.status}).`;
          }
        } finally {
          if (button) button.disabled = false;
        }
      });
    });
  }

  // ---- BankID: collect until the person has signed ---------------------------------------
  function bankIdWatcher(root) {
    const statusLine = root.querySelector("[data-bankid-status]");
    const token = csrfToken(document);
    let delay = 1500;
    async function collect() {
      const response = await fetch("/api/v1/identities/bankid/collect/", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
        body: JSON.stringify({ integration: Number(root.dataset.integration), orderRef: root.dataset.orderRef }),
      });
      const body = await response.json().catch(() => ({}));
      if (body.status === "complete") {
        statusLine.textContent = "Verified. Choose the organisation and connect.";
        window.location.assign(root.dataset.next);
        return;
      }
      if (body.status === "failed" || !response.ok) {
        statusLine.textContent = "BankID did not complete. Start again to retry.";
        return;
      }
      delay = Math.min(delay * 1.3, 5000);
      setTimeout(collect, delay);
    }
    const simulate = root.querySelector("form[data-bankid-simulate]");
    if (simulate) {
      simulate.addEventListener("submit", async (submitEvent) => {
        submitEvent.preventDefault();
        await fetch(simulate.action, { method: "POST", headers: { "X-CSRFToken": csrfToken(simulate) }, body: new FormData(simulate) });
      });
    }
    setTimeout(collect, delay);
  }

  // The connect form offers only the identities verified for the organisation chosen
  // (each option's data-valid-for: organisation ids, or "all"); the server checks it too.
  function identityChoices(select) {
    const organisation = select.form && select.form.querySelector("select[name=integration]");
    if (!organisation) return;
    const none = select.form.querySelector("[data-identity-none]");
    const apply = () => {
      let firstValid = null;
      for (const option of select.options) {
        if (!option.value) continue;
        const validFor = (option.dataset.validFor || "").split(" ");
        // No organisation chosen yet: every identity verified somewhere.
        const valid = validFor.includes("all") || (organisation.value ? validFor.includes(organisation.value) : validFor.some(Boolean));
        option.hidden = !valid;
        option.disabled = !valid;
        if (valid && !firstValid) firstValid = option;
      }
      const chosen = select.selectedOptions[0];
      if (!chosen || chosen.disabled || !chosen.value) select.value = firstValid ? firstValid.value : "";
      if (none) none.hidden = Boolean(firstValid) || !organisation.value;
    };
    organisation.addEventListener("change", apply);
    apply();
  }

  document.addEventListener("DOMContentLoaded", () => {
    fillTimes(document);
    document.querySelectorAll("select[data-identity-select]").forEach(identityChoices);
    const queueWatchers = new Map();
    document.querySelectorAll("[data-event-queue]").forEach((root) => queueWatchers.set(root, eventQueueWatcher(root)));
    const accountingWatchers = new Map();
    document.querySelectorAll("[data-accounting-live]").forEach((root) => accountingWatchers.set(root, accountingWatcher(root)));
    wireSyncForms((form) => {
      for (const [root, watcher] of queueWatchers) if (root.contains(form)) return watcher;
      for (const [root, watcher] of accountingWatchers) if (root.contains(form)) return watcher;
      return null;
    });
    document.querySelectorAll("[data-bankid-order]").forEach(bankIdWatcher);
  });
})();
