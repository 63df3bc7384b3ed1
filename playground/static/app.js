// The playground page: draws the double's channel from /events and sends what the visitor does.
// Every string from the server is put in the page with textContent, never parsed as HTML.
"use strict";

const AVATAR_COLOURS = { mina: "#eb459e", jun: "#3ba55c", sora: "#f0b232" };
const INLINE = /\\([^\w\s])|\*\*(.+?)\*\*|\[([^\]\n]+)\]\(([^)\s]+)\)|`([^`\n]+)`|\*([^*\n]+)\*/g;
const TYPE = { SUB: 1, GROUP: 2, STRING: 3, INTEGER: 4, BOOLEAN: 5, USER: 6, NUMBER: 10, ATTACHMENT: 11 };

const page = {
  state: null,
  member: "mina",
  locale: "en-US",
  rendered: new Map(),   // message id -> { key, element }
  dismissed: new Set(),
  commandsKey: "",
  picks: {},             // attachment option name -> { sample } | { file }
  samples: [],
};

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// A little of Discord's markdown: \-escapes, **bold**, *italic*, `code` and [links](/files/...). Text stays text.
function rich(text) {
  const out = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    out.append(text.slice(last, match.index));
    if (match[1] !== undefined) out.append(match[1]);
    else if (match[2] !== undefined) out.append(el("strong", { text: match[2] }));
    else if (match[3] !== undefined) {
      const jump = match[4].startsWith("#m");
      const local = match[4].startsWith("/files/");
      if (jump) out.append(el("a", { href: match[4], text: match[3], onclick: (event) => {
        event.preventDefault();
        document.querySelector(`[data-message-id="${CSS.escape(match[4].slice(2))}"]`)?.scrollIntoView({ behavior: "smooth" });
      } }));
      else out.append(local ? el("a", { href: match[4], target: "_blank", rel: "noopener", text: match[3] })
        : el("span", { class: "off-site", title: "a link on the RunComfy double", text: match[3] }));
    } else if (match[5] !== undefined) out.append(el("code", { text: match[5] }));
    else out.append(el("em", { text: match[6] }));
    last = match.index + match[0].length;
  }
  out.append(text.slice(last));
  return out;
}

function localised(item, key) {
  const table = item[key + "s"] || {};
  return table[page.locale] || item[key];
}

function currentMember() {
  return page.state.members.find((m) => m.key === page.member);
}

function log(text, error = false) {
  const entry = el("li", { text: `${new Date().toLocaleTimeString()} ${text}` });
  if (error) entry.style.color = "#fa777c";
  const list = document.getElementById("log");
  list.prepend(entry);
  while (list.children.length > 30) list.lastChild.remove();
}

// ---- messages ---------------------------------------------------------------------------------------

function colour(value) {
  return typeof value === "number" ? "#" + value.toString(16).padStart(6, "0") : null;
}

function renderEmbed(embed) {
  const main = el("div", { class: "embed-main" });
  if (embed.title) main.append(el("div", { class: "embed-title" }, rich(embed.title)));
  if (embed.description) main.append(el("div", { class: "embed-description" }, rich(embed.description)));
  if (embed.fields.length) {
    const fields = el("div", { class: "embed-fields" });
    for (const field of embed.fields) {
      fields.append(el("div", { class: "embed-field" + (field.inline ? " inline" : "") },
        el("div", { class: "embed-field-name" }, rich(field.name)),
        el("div", { class: "embed-field-value" }, rich(field.value))));
    }
    main.append(fields);
  }
  const box = el("div", { class: "embed" }, main);
  if (embed.thumbnail) box.append(el("img", { class: "embed-thumbnail", src: embed.thumbnail, alt: "" }));
  if (embed.image) main.append(el("img", { class: "embed-image", src: embed.image, alt: "" }));
  if (embed.footer) box.append(el("div", { class: "embed-footer", text: embed.footer }));
  const bar = colour(embed.color);
  if (bar) box.style.borderLeftColor = bar;
  return box;
}

function renderAttachment(file) {
  if (file.content_type.startsWith("video/") || file.filename.endsWith(".mp4")) {
    return el("video", { src: file.url, controls: true, preload: "auto", muted: true, loop: true, playsinline: true });
  }
  if (file.content_type.startsWith("image/")) return el("img", { src: file.url, alt: file.filename });
  return el("a", { class: "file", href: file.url, target: "_blank", text: file.filename });
}

function press(message, button) {
  post("/api/press", { member: page.member, locale: page.locale, message_id: message.id, custom_id: button.custom_id })
    .then(() => log(`${currentMember().name} pressed “${button.label}”`))
    .catch((error) => log(error.message, true));
}

function renderMessage(message) {
  const node = el("article", {
    class: "message" + (message.ephemeral ? " ephemeral" : "") + (message.command ? " with-command" : ""),
    dataset: { messageId: message.id },
  });
  if (message.command) {
    node.append(el("div", { class: "command-line" },
      el("span", { class: "who", text: message.command.user }),
      el("span", { text: "used" }),
      el("span", { class: "cmd", text: "/" + message.command.name })));
  }
  node.append(el("div", { class: "avatar", text: message.author.slice(0, 1) }));
  node.append(el("div", { class: "author" },
    el("span", { class: "name", text: message.author }),
    el("span", { class: "bot-tag", text: "APP" }),
    el("span", { class: "time", text: "Today at " + new Date(message.time * 1000).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" }) }),
    message.edited ? el("span", { class: "edited", text: "(edited)" }) : null));
  if (message.loading) node.append(el("div", { class: "thinking", text: `${message.author} is thinking` }));
  if (message.content) node.append(el("div", { class: "content" }, rich(message.content)));
  for (const embed of message.embeds) node.append(renderEmbed(embed));
  if (message.attachments.length) {
    node.append(el("div", { class: "attachments" }, ...message.attachments.map(renderAttachment)));
  }
  for (const row of message.components) {
    node.append(el("div", { class: "components" }, ...row.map((button) => el("button", {
      type: "button", class: `style-${button.style}`, disabled: button.disabled,
      dataset: { customId: button.custom_id }, onclick: () => press(message, button),
    }, button.emoji ? button.emoji + " " : "", button.label))));
  }
  if (message.ephemeral) {
    node.append(el("div", { class: "only-you" },
      el("span", { text: "👁 Only you can see this ·" }),
      el("a", { href: "#", text: "Dismiss message", onclick: (event) => {
        event.preventDefault();
        page.dismissed.add(message.id);
        drawMessages();
      } })));
  }
  return node;
}

function drawMessages() {
  const list = document.getElementById("messages");
  const me = currentMember();
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const shown = page.state.messages.filter((m) =>
    !page.dismissed.has(m.id) && (m.visible_to === null || m.visible_to === me.id));
  const keep = new Set(shown.map((m) => m.id));
  for (const id of page.rendered.keys()) if (!keep.has(id)) page.rendered.delete(id);
  const nodes = shown.map((message) => {
    const key = JSON.stringify(message);
    let entry = page.rendered.get(message.id);
    if (!entry || entry.key !== key) {
      entry = { key, element: renderMessage(message) };
      page.rendered.set(message.id, entry);
    }
    return entry.element;
  });
  if (!nodes.length) nodes.push(el("p", { class: "empty", text: "No messages yet. Run /animate below." }));
  const current = [...list.children];
  if (current.length !== nodes.length || current.some((node, i) => node !== nodes[i])) list.replaceChildren(...nodes);
  if (nearBottom) list.scrollTop = list.scrollHeight;
}

// ---- the composer -----------------------------------------------------------------------------------

function selectedCommand() {
  const name = document.getElementById("command").value;
  return page.state.commands.find((c) => c.name === name);
}

function optionsOf(command) {
  const sub = document.getElementById("subcommand");
  const subs = command.options.filter((o) => o.type === TYPE.SUB || o.type === TYPE.GROUP);
  sub.hidden = subs.length === 0;
  if (!subs.length) return command.options;
  const chosen = subs.find((o) => o.name === sub.value) || subs[0];
  return chosen.options;
}

function picker(option) {
  const box = el("div", { class: "picker", dataset: { option: option.name } });
  const choose = (pick) => { page.picks[option.name] = pick; drawPicker(box, option); };
  const input = el("input", { type: "file", accept: "image/*", onchange: () => {
    if (input.files.length) choose({ file: input.files[0] });
  } });
  box.addEventListener("dragover", (event) => { event.preventDefault(); box.classList.add("dragging"); });
  box.addEventListener("dragleave", () => box.classList.remove("dragging"));
  box.addEventListener("drop", (event) => {
    event.preventDefault();
    box.classList.remove("dragging");
    if (event.dataTransfer.files.length) choose({ file: event.dataTransfer.files[0] });
  });
  box.chooseSample = (name) => choose(page.picks[option.name]?.sample === name && !option.required ? null : { sample: name });
  box.fileInput = input;
  drawPicker(box, option);
  return box;
}

function drawPicker(box, option) {
  const pick = page.picks[option.name];
  const buttons = page.samples.map((sample) => el("button", {
    type: "button", class: "sample", title: sample.note, "aria-pressed": String(pick?.sample === sample.name),
    dataset: { sample: sample.name }, onclick: () => box.chooseSample(sample.name),
  }, el("img", { src: sample.url, alt: "" }), el("span", { text: sample.filename })));
  const label = pick?.file ? pick.file.name : "Drop or choose a file";
  const drop = el("label", { class: "drop" + (pick?.file ? " chosen" : ""), title: label }, el("span", { text: label }), box.fileInput);
  box.replaceChildren(drop, ...buttons);
}

function field(option) {
  const help = localised(option, "description");
  const label = el("span", { class: "option-name" }, option.name,
    option.required ? el("span", { class: "req", text: "*" }) : null,
    el("span", { class: "option-help", text: help }));
  label.title = help;
  let control;
  if (option.type === TYPE.ATTACHMENT) control = picker(option);
  else if (option.choices.length) {
    control = el("select", { name: option.name },
      option.required ? null : el("option", { value: "", text: "(default)" }),
      ...option.choices.map((c) => el("option", { value: String(c.value), text: localised(c, "name") })));
  } else if (option.type === TYPE.BOOLEAN) {
    control = el("select", { name: option.name }, el("option", { value: "", text: "(default)" }),
      el("option", { value: "true", text: "true" }), el("option", { value: "false", text: "false" }));
  } else if (option.type === TYPE.USER) {
    control = el("select", { name: option.name }, el("option", { value: "", text: "(nobody)" }),
      ...page.state.members.map((m) => el("option", { value: m.key, text: m.name })));
  } else if (option.type === TYPE.INTEGER || option.type === TYPE.NUMBER) {
    control = el("input", { type: "number", name: option.name, step: option.type === TYPE.NUMBER ? "any" : "1" });
  } else {
    control = el("textarea", { name: option.name, rows: 1 });
  }
  const size = option.type === TYPE.ATTACHMENT ? " half" : option.type === TYPE.STRING && !option.choices.length ? " wide" : "";
  const tag = option.type === TYPE.ATTACHMENT ? "div" : "label";
  return el(tag, { class: "option" + size, dataset: { option: option.name } }, label, control);
}

function drawComposer() {
  const command = selectedCommand();
  const description = document.getElementById("command-description");
  const options = document.getElementById("options");
  if (!command) {
    description.textContent = "The bot has not registered any command yet.";
    options.replaceChildren();
    return;
  }
  description.textContent = localised(command, "description");
  const sub = document.getElementById("subcommand");
  const subs = command.options.filter((o) => o.type === TYPE.SUB || o.type === TYPE.GROUP);
  const before = sub.value;
  sub.replaceChildren(...subs.map((o) => el("option", { value: o.name, text: o.name })));
  if (subs.some((o) => o.name === before)) sub.value = before;
  const list = optionsOf(command);
  for (const option of list) {
    if (option.type === TYPE.ATTACHMENT && option.required && !(option.name in page.picks)) {
      page.picks[option.name] = { sample: page.samples[0]?.name };
    }
  }
  // Pictures first (side by side), then free text, then the short choices, as a tidy grid.
  const rank = (o) => (o.type === TYPE.ATTACHMENT ? 0 : o.type === TYPE.STRING && !o.choices.length ? 1 : 2);
  options.replaceChildren(...[...list].sort((a, b) => rank(a) - rank(b)).map(field));
}

function drawCommands() {
  const key = JSON.stringify(page.state.commands);
  if (key === page.commandsKey) return;
  page.commandsKey = key;
  const select = document.getElementById("command");
  const before = select.value || "animate";
  select.replaceChildren(...page.state.commands.map((c) => el("option", { value: c.name, text: c.name })));
  if (page.state.commands.some((c) => c.name === before)) select.value = before;
  drawComposer();
}

async function post(url, body) {
  const response = await fetch(url, body instanceof FormData ? { method: "POST", body }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error || `the playground answered ${response.status}`);
  return answer;
}

async function send(event) {
  event.preventDefault();
  const note = document.getElementById("composer-note");
  const command = selectedCommand();
  if (!command) return;
  const form = new FormData();
  const values = {};
  const words = [command.name];
  const sub = document.getElementById("subcommand");
  if (!sub.hidden && sub.value) words.push(sub.value);
  for (const option of optionsOf(command)) {
    if (option.type === TYPE.ATTACHMENT) {
      const pick = page.picks[option.name];
      if (pick?.file) form.append(`file:${option.name}`, pick.file, pick.file.name);
      else if (pick?.sample) form.append(`sample:${option.name}`, pick.sample);
      else if (option.required) { note.textContent = `Choose a picture for ${option.name}.`; note.className = "composer-note error"; return; }
      continue;
    }
    const control = document.querySelector(`#options [name="${CSS.escape(option.name)}"]`);
    const value = control ? control.value.trim() : "";
    if (!value && option.required) {
      note.textContent = `Fill in ${option.name}.`;
      note.className = "composer-note error";
      return;
    }
    if (value) values[option.name] = value;
  }
  form.append("member", page.member);
  form.append("locale", page.locale);
  form.append("command", words.join(" "));
  form.append("options", JSON.stringify(values));
  note.className = "composer-note";
  note.textContent = `Sending /${words.join(" ")} as ${currentMember().name}…`;
  try {
    await post("/api/command", form);
    note.textContent = "";
    log(`${currentMember().name} ran /${words.join(" ")} (${page.locale})`);
  } catch (error) {
    note.textContent = error.message;
    note.className = "composer-note error";
  }
}

// ---- the rest of the page ---------------------------------------------------------------------------

function avatar(member) {
  const badge = el("span", { class: "avatar small", text: member.name.slice(0, 1) });
  badge.style.background = AVATAR_COLOURS[member.key] || "#5865f2";
  return badge;
}

function drawMembers() {
  const box = document.getElementById("members");
  if (box.children.length === page.state.members.length) return;
  box.replaceChildren(...page.state.members.map((m) => el("label", { dataset: { member: m.key } },
    el("input", { type: "radio", name: "member", value: m.key, checked: m.key === page.member,
      onchange: () => { page.member = m.key; drawMessages(); } }),
    avatar(m),
    el("span", { text: m.name }),
    m.moderator ? el("span", { class: "role-tag", text: "Moderator" }) : null)));
}

function drawControls() {
  const controls = page.state.controls;
  for (const [id, key] of [["queue-s", "queue_s"], ["run-s", "run_s"]]) {
    const input = document.getElementById(id);
    if (document.activeElement !== input) input.value = controls[key];
    document.getElementById(id.replace("-s", "-out")).textContent = `${Number(input.value)} s`;
  }
}

function drawStatus() {
  const bot = page.state.bot;
  const dot = document.getElementById("bot-status");
  const online = bot.running && bot.connected;
  dot.className = "status-dot " + (online ? "online" : "offline");
  document.getElementById("bot-status-text").textContent =
    online ? `${bot.name} is online` : bot.running ? `${bot.name} is connecting…` : `${bot.name} has stopped`;
  document.body.dataset.bot = online ? "online" : "offline";
}

function apply(state) {
  page.state = state;
  document.getElementById("server-name").textContent = state.server;
  document.getElementById("server-icon").textContent = state.server.slice(0, 1);
  document.getElementById("channel-name").textContent = state.channel;
  document.getElementById("channel-title").textContent = state.channel;
  drawMembers();
  drawStatus();
  drawControls();
  drawCommands();
  drawMessages();
}

async function setTiming() {
  const body = { queue_s: Number(document.getElementById("queue-s").value), run_s: Number(document.getElementById("run-s").value) };
  try {
    await post("/api/timing", body);
    log(`RunComfy double: new jobs queue ${body.queue_s} s and generate ${body.run_s} s`);
  } catch (error) { log(error.message, true); }
}

async function start() {
  page.samples = await (await fetch("/samples")).json();
  document.getElementById("composer").addEventListener("submit", send);
  document.getElementById("command").addEventListener("change", drawComposer);
  document.getElementById("subcommand").addEventListener("change", drawComposer);
  for (const input of document.querySelectorAll('input[name="locale"]')) {
    input.addEventListener("change", () => { page.locale = input.value; drawComposer(); });
  }
  for (const id of ["queue-s", "run-s"]) {
    const input = document.getElementById(id);
    input.addEventListener("input", () => { document.getElementById(id.replace("-s", "-out")).textContent = `${input.value} s`; });
    input.addEventListener("change", setTiming);
  }
  for (const button of document.querySelectorAll("[data-fault]")) {
    button.addEventListener("click", async () => {
      try { log((await post(`/api/fault/${button.dataset.fault}`, {})).note); } catch (error) { log(error.message, true); }
    });
  }
  const events = new EventSource("/events");
  events.onmessage = (event) => apply(JSON.parse(event.data));
  events.onerror = () => { document.body.dataset.bot = "offline"; document.getElementById("bot-status-text").textContent = "the playground is not answering"; };
}

start();
