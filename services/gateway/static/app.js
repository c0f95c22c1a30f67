// ForgeSyte web UI: pick a tool, upload a video, follow the job live.
//
// Live updates come from the gateway's Server-Sent Events stream, read with
// fetch() so the optional API token can travel in a header. When the stream
// cannot be opened or breaks, the view falls back to polling every 2 s.
// Both stop at a terminal state.
"use strict";

const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const POLL_MS = 2000;
const PLUGIN_RETRY_MS = 3000;
const JOBS_PAGE_SIZE = 20;
const TOKEN_KEY = "forgesyte-api-token";

const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || "",
  plugins: [],
  follower: null,
  jobsToken: null,
  jobsRequest: 0,
  // The newest snapshot of each job this page has seen, by job id, so a list
  // response that left the server earlier never shows an older state.
  newest: new Map(),
};

// Remembers a snapshot and returns the newest one known for that job.
function newest(job) {
  const known = state.newest.get(job.job_id);
  if (known && known.version > job.version) return known;
  state.newest.set(job.job_id, job);
  return job;
}

// ---------------------------------------------------------------- requests

function authHeaders(extra = {}) {
  const headers = { ...extra };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  return headers;
}

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function failure(response) {
  let detail = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && typeof body.detail === "string") detail = body.detail;
  } catch (_) {
    // not JSON: keep the status line
  }
  if (response.status === 401) askForToken();
  return new ApiError(response.status, detail);
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: authHeaders(options.headers) });
  if (!response.ok) throw await failure(response);
  return response.status === 204 ? null : response.json();
}

function askForToken() {
  $("token-box").open = true;
  $("token-needed").hidden = false;
}

// ----------------------------------------------------------------- plugins

function videoTools(plugin) {
  return plugin.tools.filter((tool) => tool.input_types.includes("video"));
}

async function loadPlugins() {
  let plugins = [];
  let retry = true;
  try {
    plugins = (await api("/v1/plugins")).plugins.filter((p) => videoTools(p).length > 0);
  } catch (error) {
    showSubmitError(`Could not load plugins: ${error.message}`);
    retry = error.status !== 401; // a saved token reloads them
  }
  state.plugins = plugins;
  const select = $("plugin");
  select.replaceChildren(
    ...plugins.map((plugin) => new Option(plugin.name || plugin.id, plugin.id)),
  );
  $("plugins-empty").hidden = plugins.length > 0;
  $("submit-button").disabled = plugins.length === 0;
  fillTools();
  // Until a worker advertises its plugins; this stops once there are some.
  if (plugins.length === 0 && retry) setTimeout(loadPlugins, PLUGIN_RETRY_MS);
}

function fillTools() {
  const plugin = state.plugins.find((p) => p.id === $("plugin").value);
  const tools = plugin ? videoTools(plugin) : [];
  $("tool").replaceChildren(...tools.map((tool) => new Option(tool.id, tool.id)));
  describeTool();
}

function describeTool() {
  const plugin = state.plugins.find((p) => p.id === $("plugin").value);
  const tool = plugin && plugin.tools.find((t) => t.id === $("tool").value);
  $("tool-description").textContent = tool ? tool.description : "";
}

// ------------------------------------------------------------------ submit

function showSubmitError(message) {
  const element = $("submit-error");
  element.textContent = message;
  element.hidden = !message;
}

function setUploadPercent(percent) {
  $("upload-progress").value = percent;
  $("upload-percent").textContent = `${percent}%`;
}

// XMLHttpRequest rather than fetch(): it reports upload progress.
function upload(url, file, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    if (state.token) request.setRequestHeader("Authorization", `Bearer ${state.token}`);
    request.responseType = "json";
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(Math.floor((100 * event.loaded) / event.total));
    });
    request.addEventListener("load", () => {
      const body = request.response || {};
      if (request.status === 200) {
        resolve(body);
        return;
      }
      if (request.status === 401) askForToken();
      reject(new ApiError(request.status, body.detail || `Upload failed (${request.status})`));
    });
    request.addEventListener("error", () => reject(new ApiError(0, "The upload failed: network error")));
    const form = new FormData();
    form.append("file", file);
    request.send(form);
  });
}

async function submit(event) {
  event.preventDefault();
  const file = $("file").files[0];
  if (!file) return;
  const query = new URLSearchParams({ plugin_id: $("plugin").value, tool: $("tool").value });
  showSubmitError("");
  $("submit-button").disabled = true;
  $("upload").hidden = false;
  setUploadPercent(0);
  try {
    const { job_id: jobId } = await upload(`/v1/video/submit?${query}`, file, setUploadPercent);
    setUploadPercent(100);
    $("submit-form").reset();
    fillTools();
    location.hash = `#/jobs/${jobId}`;
    loadJobs();
  } catch (error) {
    showSubmitError(error.message);
  } finally {
    $("submit-button").disabled = state.plugins.length === 0;
    $("upload").hidden = true;
  }
}

// -------------------------------------------------------------- job view

function formatSeconds(seconds) {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds % 60)} s`;
}

function humanise(key) {
  const words = key.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function describeValue(value) {
  if (Array.isArray(value)) return `${value.length} item${value.length === 1 ? "" : "s"}`;
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function renderResults(results) {
  const summary = $("results-summary");
  const rows = [];
  if (results && typeof results === "object" && !Array.isArray(results)) {
    if (Array.isArray(results.frames)) rows.push(["Frames analysed", results.frames.length]);
    const details = results.summary && typeof results.summary === "object" ? results.summary : results;
    for (const [key, value] of Object.entries(details)) {
      if (details === results && key === "frames") continue;
      rows.push([humanise(key), describeValue(value)]);
    }
  } else if (results === null || results === undefined) {
    rows.push(["Results", "too large to show; download them"]);
  } else {
    rows.push(["Results", describeValue(results)]);
  }
  summary.replaceChildren(
    ...rows.flatMap(([term, value]) => {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = String(value);
      return [dt, dd];
    }),
  );
  $("job-results").hidden = false;
}

function renderJob(job) {
  job = newest(job);
  const running = job.status === "running";
  const known = running && job.progress !== null && job.progress !== undefined;
  $("job-title").textContent = job.original_filename ? `Job: ${job.original_filename}` : "Job";
  $("job-meta").textContent = `${job.plugin_id} / ${job.tool} · ${job.job_id}`;
  $("job-status").textContent = `Status: ${job.status}`;

  const bar = $("job-bar");
  bar.hidden = !known;
  if (known) {
    bar.setAttribute("aria-valuenow", String(job.progress));
    bar.setAttribute("aria-valuetext", `${job.progress}%`);
    bar.querySelector(".bar-fill").style.width = `${job.progress}%`;
    bar.querySelector(".bar-text").textContent = `${job.progress}%`;
  } else {
    bar.removeAttribute("aria-valuenow");
    bar.removeAttribute("aria-valuetext");
  }
  $("job-indeterminate").hidden = !(running && !known);

  const eta = $("job-eta");
  eta.hidden = !(running && typeof job.eta_seconds === "number");
  if (!eta.hidden) eta.textContent = `About ${formatSeconds(job.eta_seconds)} left`;

  const error = $("job-error");
  error.hidden = job.status !== "failed";
  error.textContent = error.hidden ? "" : `Failed: ${job.error_message || "no reason given"}`;

  const cancel = $("cancel");
  cancel.hidden = TERMINAL.has(job.status);
  cancel.disabled = Boolean(job.cancel_requested);
  cancel.textContent = job.cancel_requested ? "Cancelling…" : "Cancel job";

  if (job.status !== "completed") $("job-results").hidden = true;
  else if ("results" in job) renderResults(job.results);
}

// Follows one job until it ends: the event stream first, polling after.
class Follower {
  constructor(jobId) {
    this.jobId = jobId;
    this.stopped = false;
    this.lastEventId = 0;
    this.timer = null;
    this.abort = new AbortController();
    this.lastStatus = null;
  }

  stop() {
    this.stopped = true;
    this.abort.abort();
    clearTimeout(this.timer);
  }

  setMode(mode) {
    $("job").dataset.live = mode;
  }

  async start() {
    this.setMode("stream");
    let ended = false;
    try {
      ended = await this.stream();
    } catch (_) {
      ended = false;
    }
    if (this.stopped || ended) return;
    this.setMode("polling");
    this.poll();
  }

  // True when the job reached its end; false when the stream broke first.
  async stream() {
    const headers = { Accept: "text/event-stream" };
    if (this.lastEventId) headers["Last-Event-ID"] = String(this.lastEventId);
    const response = await fetch(`/v1/jobs/${this.jobId}/events`, {
      headers: authHeaders(headers),
      signal: this.abort.signal,
      cache: "no-store",
    });
    if (response.status === 204) return this.finish(null);
    if (!response.ok || !response.body) {
      if (response.status === 401) askForToken();
      return false;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event.type === "error") return false;
        if (event.type !== "job" || !event.data) continue;
        if (event.id) this.lastEventId = Number(event.id);
        if (this.update(JSON.parse(event.data))) {
          reader.cancel().catch(() => {});
          return this.finish(null);
        }
      }
    }
  }

  poll() {
    const tick = async () => {
      if (this.stopped) return;
      try {
        const job = await api(`/v1/jobs/${this.jobId}`);
        if (this.stopped) return;
        if (this.update(job)) {
          this.finish(job);
          return;
        }
      } catch (error) {
        if (error.status === 400 || error.status === 401 || error.status === 404) {
          showJobError(error.message);
          this.finish(null);
          return;
        }
      }
      this.timer = setTimeout(tick, POLL_MS);
    };
    tick();
  }

  // Renders a snapshot; true when it is terminal.
  update(job) {
    if (this.stopped) return false;
    renderJob(job);
    refreshRow(job);
    if (job.status !== this.lastStatus) {
      this.lastStatus = job.status;
      loadJobs();
    }
    return TERMINAL.has(job.status);
  }

  // The end: stop everything; a completed job's results come with its detail.
  finish(detail) {
    this.stop();
    this.setMode("done");
    if (detail) {
      renderJob(detail);
    } else {
      api(`/v1/jobs/${this.jobId}`).then(renderJob, (error) => showJobError(error.message));
    }
    return true;
  }
}

function parseEvent(block) {
  const event = { type: "message", id: "", data: "" };
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event.type = value;
    else if (field === "data") data.push(value);
    else if (field === "id") event.id = value;
  }
  event.data = data.join("\n");
  return event;
}

function showJobError(message) {
  const error = $("job-error");
  error.textContent = message;
  error.hidden = false;
}

async function openJob(jobId) {
  if (state.follower) state.follower.stop();
  state.follower = null;
  const section = $("job");
  section.hidden = false;
  section.dataset.jobId = jobId;
  $("job-error").hidden = true;
  $("job-results").hidden = true;
  $("job-bar").hidden = true;
  $("job-indeterminate").hidden = true;
  $("job-eta").hidden = true;
  $("cancel").hidden = true;
  $("job-status").textContent = "Status: loading";
  $("job-title").focus();
  let job;
  try {
    job = await api(`/v1/jobs/${jobId}`);
  } catch (error) {
    $("job-status").textContent = "Status: unknown";
    showJobError(error.message);
    return;
  }
  if (section.dataset.jobId !== jobId) return; // another job was opened meanwhile
  renderJob(job);
  refreshRow(job);
  if (TERMINAL.has(job.status)) {
    section.dataset.live = "done";
    return;
  }
  const follower = new Follower(jobId);
  follower.lastStatus = job.status;
  state.follower = follower;
  follower.start();
}

async function cancelJob() {
  const jobId = $("job").dataset.jobId;
  if (!jobId) return;
  $("cancel").disabled = true;
  try {
    renderJob(await api(`/v1/jobs/${jobId}`, { method: "DELETE" }));
    loadJobs();
  } catch (error) {
    showJobError(error.message);
    $("cancel").disabled = false;
  }
}

async function downloadResults() {
  const jobId = $("job").dataset.jobId;
  try {
    const response = await fetch(`/v1/video/results/${jobId}`, { headers: authHeaders() });
    if (!response.ok) throw await failure(response);
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = `forgesyte-results-${jobId}.json`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (error) {
    showJobError(`Download failed: ${error.message}`);
  }
}

// --------------------------------------------------------------- job list

function jobRow(job) {
  const row = document.createElement("tr");
  row.dataset.jobId = job.job_id;
  const file = document.createElement("td");
  const link = document.createElement("a");
  link.href = `#/jobs/${job.job_id}`;
  link.textContent = job.original_filename || job.job_id;
  file.append(link);
  const tool = document.createElement("td");
  tool.textContent = `${job.plugin_id} / ${job.tool}`;
  const status = document.createElement("td");
  const badge = document.createElement("span");
  badge.className = `badge badge-${job.status}`;
  badge.textContent = job.status;
  status.append(badge);
  const progress = document.createElement("td");
  progress.textContent = job.progress === null ? "—" : `${job.progress}%`;
  const created = document.createElement("td");
  const time = document.createElement("time");
  time.dateTime = job.created_at;
  time.textContent = new Date(job.created_at).toLocaleString();
  created.append(time);
  row.append(file, tool, status, progress, created);
  return row;
}

// The followed job's row changes with it, between list reloads.
function refreshRow(job) {
  const row = $("jobs-table").querySelector(`tr[data-job-id="${job.job_id}"]`);
  if (row) row.replaceWith(jobRow(newest(job)));
}

async function loadJobs(more = false) {
  const query = new URLSearchParams({ page_size: String(JOBS_PAGE_SIZE) });
  if (more && state.jobsToken) query.set("page_token", state.jobsToken);
  // Responses can arrive out of order; only the latest request's counts.
  const ticket = ++state.jobsRequest;
  let page;
  try {
    page = await api(`/v1/jobs?${query}`);
  } catch (_) {
    return;
  }
  if (ticket !== state.jobsRequest) return;
  const body = $("jobs-table").tBodies[0];
  const rows = page.jobs.map((job) => jobRow(newest(job)));
  if (more) body.append(...rows);
  else body.replaceChildren(...rows);
  state.jobsToken = page.next_page_token;
  $("more-jobs").hidden = !page.next_page_token;
  $("jobs-empty").hidden = body.rows.length > 0;
}

// ------------------------------------------------------------------ start

function route() {
  const match = location.hash.match(/^#\/jobs\/([0-9a-fA-F-]{36})$/);
  if (match) {
    openJob(match[1]);
    return;
  }
  if (state.follower) state.follower.stop();
  state.follower = null;
  $("job").hidden = true;
  delete $("job").dataset.jobId;
}

function saveToken(event) {
  event.preventDefault();
  state.token = $("token").value.trim();
  if (state.token) sessionStorage.setItem(TOKEN_KEY, state.token);
  else sessionStorage.removeItem(TOKEN_KEY);
  $("token-needed").hidden = true;
  $("token-box").open = false;
  showSubmitError("");
  loadPlugins();
  loadJobs();
  route();
}

function start() {
  $("token").value = state.token;
  $("token-form").addEventListener("submit", saveToken);
  $("plugin").addEventListener("change", fillTools);
  $("tool").addEventListener("change", describeTool);
  $("submit-form").addEventListener("submit", submit);
  $("cancel").addEventListener("click", cancelJob);
  $("download").addEventListener("click", downloadResults);
  $("refresh-jobs").addEventListener("click", () => loadJobs());
  $("more-jobs").addEventListener("click", () => loadJobs(true));
  window.addEventListener("hashchange", route);
  loadPlugins();
  loadJobs();
  route();
}

start();
