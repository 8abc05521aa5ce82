// activity-hub web UI: the few behaviours plain HTML lacks. Every page works without it.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Choosing a type in the post form shows that type's fields (the form is a GET of the page).
  const pick = document.getElementById("new-type");
  if (pick && pick.form) {
    pick.addEventListener("change", () => pick.form.submit());
  }

  // The timeline continues as it is scrolled: the next page's items are appended in place.
  const timeline = document.getElementById("timeline");
  let loading = false;
  async function loadMore(link) {
    if (loading || !timeline) return;
    loading = true;
    try {
      const resp = await fetch(link.href, { credentials: "same-origin" });
      if (!resp.ok) {
        window.location.href = link.href;
        return;
      }
      const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
      const next = doc.getElementById("timeline");
      if (next) {
        for (const item of Array.from(next.children)) timeline.appendChild(document.adoptNode(item));
        timeline.dataset.page = next.dataset.page;
      }
      const nextMore = doc.getElementById("more");
      const holder = link.parentElement;
      if (nextMore && holder) {
        link.href = nextMore.href;
      } else if (holder) {
        holder.remove();
      }
    } finally {
      loading = false;
    }
  }
  const more = document.getElementById("more");
  if (more) {
    more.addEventListener("click", (e) => {
      e.preventDefault();
      loadMore(more);
    });
    if ("IntersectionObserver" in window) {
      new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting) && document.getElementById("more")) loadMore(more);
      }).observe(more);
    }
  }
});
