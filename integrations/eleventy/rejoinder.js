// Rejoinder for Eleventy: shortcodes for the comments and for comment counts.
//
//   // eleventy.config.js
//   import rejoinder from "./rejoinder.js";
//   export default function (config) {
//     config.addPlugin(rejoinder, { server: "https://comments.example.com", site: "myblog" });
//   }
//
// In a post's layout: {% rejoinder page.url, title %}
// In a list: {% rejoinderCount post.url %} beside each post, and {% rejoinderCounts %} once.

const escape = (value) =>
  String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

export default function rejoinder(config, options = {}) {
  const server = String(options.server || "").replace(/\/+$/, "");
  const site = options.site || "";
  if (!server || !site) throw new Error("rejoinder: give the plugin { server, site }");

  config.addShortcode("rejoinder", (page, title = "") =>
    `<div id="rejoinder" data-page="${escape(page)}" data-title="${escape(title)}"></div>\n` +
    `<script src="${escape(server)}/embed.js" data-site="${escape(site)}" async></script>`);

  config.addShortcode("rejoinderCount", (page) =>
    `<a href="${escape(page)}#rejoinder" data-rejoinder-count="${escape(page)}" data-rejoinder-zero="No comments yet" ` +
    `data-rejoinder-one="1 comment" data-rejoinder-other="{n} comments">Comments</a>`);

  config.addShortcode("rejoinderCounts", () =>
    `<script src="${escape(server)}/count.js" data-site="${escape(site)}" async></script>`);
}
