/* Search snippets that show the reader's word in its sentence (the book's search page only).
 *
 * Sphinx 7.4's searchtools.js cuts a result's snippet from the page's
 * [role=main], which in this theme begins with the toolbar (the download
 * button's ".ipynb", ".md") and holds the page's contents list; math shows
 * as its TeX source; and it looks for the stemmed word ("entropi" for
 * "entropy"), misses it and falls back to the start of that region. Here the
 * snippet comes from the article alone, math reads as the plain text the
 * build wrote into each math element's data-text (_ext/klbook_site.py), and
 * the word looked for is the one the reader typed, then its stem, then the
 * stem's first letters. Deferred, so it runs after searchtools.js and before the search.
 */
"use strict";

(() => {
  if (typeof Search === "undefined") return;

  const CONTEXT_BEFORE = 120;
  const LENGTH = 240;

  const typedWords = () =>
    (new URLSearchParams(window.location.search).get("q") || "")
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter((word) => word.length > 1);

  Search.htmlToText = (htmlString, anchor) => {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    const article = doc.querySelector("article") || doc.querySelector('[role="main"]');
    if (!article) return "";
    article
      .querySelectorAll(".headerlink, script, style, button, .toggle-button, mjx-container")
      .forEach((el) => el.remove());
    article.querySelectorAll(".math").forEach((el) => {
      const text = el.dataset.text || "…";
      // A display equation is a block of its own: keep it apart from the text round it.
      el.replaceWith(doc.createTextNode(el.tagName === "DIV" ? ` ${text} ` : text));
    });
    let root = article;
    if (anchor) {
      try {
        root = article.querySelector(anchor) || article;
      } catch (error) {
        root = article;
      }
    }
    return root.textContent.replace(/\s+/g, " ").trim();
  };

  // The first place where one of `words` starts a word of `text`, or -1.
  const firstMatch = (text, words) => {
    let best = -1;
    for (const word of words) {
      if (!word) continue;
      const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const found = new RegExp(`(^|[^\\p{L}\\p{N}])${escaped}`, "iu").exec(text);
      if (found) {
        const at = found.index + found[1].length;
        if (best < 0 || at < best) best = at;
      }
    }
    return best;
  };

  Search.makeSearchSummary = (htmlText, keywords, anchor) => {
    const text = Search.htmlToText(htmlText, anchor);
    if (text === "") return null;
    const stems = [...keywords].map((k) => k.toLowerCase());
    let at = -1;
    for (const words of [typedWords(), stems, stems.map((s) => s.slice(0, -1))]) {
      at = firstMatch(text, words.filter((w) => w.length > 1));
      if (at >= 0) break;
    }
    let start = Math.max((at < 0 ? 0 : at) - CONTEXT_BEFORE, 0);
    if (start > 0) {
      const space = text.indexOf(" ", start);
      if (space >= 0 && space < (at < 0 ? start : at)) start = space + 1;
    }
    let end = Math.min(start + LENGTH, text.length);
    if (end < text.length) {
      const space = text.lastIndexOf(" ", end);
      if (space > Math.max(at, start)) end = space;
    }
    const summary = document.createElement("p");
    summary.classList.add("context");
    summary.textContent =
      (start > 0 ? "…" : "") + text.slice(start, end).trim() + (end < text.length ? "…" : "");
    return summary;
  };
})();
