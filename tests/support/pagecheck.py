"""Checks the browser suite runs on every page state: axe-core (pinned in package.json, injected from
node_modules, never a CDN), the live-region contract, focus, and sizes at phone width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
# WCAG 2.0/2.1/2.2 A and AA, plus axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
PHONE_WIDTHS = (360, 390, 430)

# Records every text the reply live region takes (the page's own scripts never see this).
RECORD_ANNOUNCEMENTS = """
window.__announced = [];
document.addEventListener("DOMContentLoaded", () => {
  const region = document.getElementById("reply-live");
  if (!region) return;
  new MutationObserver(() => {
    const text = region.textContent.trim();
    if (text) window.__announced.push(text);
  }).observe(region, { childList: true, characterData: true, subtree: true });
});
"""


def require_axe() -> Path:
    """axe-core from node_modules; FAILS naming the install command when it is missing."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is required: {AXE} is missing (run `make node`, which runs `npm ci`)", pytrace=False)
    return AXE


def prepare(context: BrowserContext) -> None:
    """Inject axe and the announcement recorder into every document of ``context`` (before page scripts;
    init scripts are not subject to the page's CSP, which stays strict)."""
    context.add_init_script(path=str(require_axe()))
    context.add_init_script(RECORD_ANNOUNCEMENTS)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations of the page as it is now (WCAG 2.2 AA + best practices)."""
    version = page.evaluate("() => window.axe && window.axe.version")
    assert version == AXE_VERSION, f"axe-core {version} injected, {AXE_VERSION} pinned"
    result: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
          const result = await window.axe.run(document, { runOnly: { type: "tag", values: tags } });
          return result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + n.failureSummary),
          }));
        }""",
        AXE_TAGS,
    )
    return result


def assert_accessible(page: Page, state: str, audited: list[str]) -> None:
    """No axe violation in this page state; ``audited`` collects the states seen (the test asserts them)."""
    violations = axe_violations(page)
    assert violations == [], f"{state}: {violations}"
    audited.append(state)


def focused(page: Page) -> str:
    """The focused element as ``tag#id`` (or ``tag.class``), for focus assertions."""
    label: str = page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el || el === document.body) return "body";
          const tag = el.tagName.toLowerCase();
          return tag + (el.id ? "#" + el.id : el.className ? "." + el.className.split(" ")[0] : "");
        }"""
    )
    return label


def tab_to(page: Page, selector: str, *, limit: int = 40, backwards: bool = False) -> int:
    """Press Tab (Shift+Tab) until ``selector`` has focus; returns the presses. Fails after ``limit``."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} never took focus in {limit} Tabs (last: {focused(page)})")


def announcements(page: Page) -> list[str]:
    texts: list[str] = page.evaluate("() => window.__announced || []")
    return texts


def live_region_problems(page: Page) -> list[str]:
    """Live regions inside live regions, and a live message list."""
    problems: list[str] = page.evaluate(
        """() => {
          const live = '[aria-live]:not([aria-live="off"]), [role=status], [role=alert], [role=log]';
          const out = [];
          for (const el of document.querySelectorAll(live)) {
            const outer = el.parentElement && el.parentElement.closest(live);
            if (outer) out.push("nested: " + (el.id || el.className) + " in " + (outer.id || outer.className));
          }
          const log = document.getElementById("log");
          if (log && log.closest(live)) out.push("the message list is inside a live region");
          return out;
        }"""
    )
    return problems


def size_problems(page: Page) -> list[str]:
    """Visible controls under 16 px text, tap targets under 44x44 px, speaker names under 14 px,
    and a page wider than the screen."""
    problems: list[str] = page.evaluate(
        """() => {
          const out = [];
          const visible = (el) => {
            const r = el.getBoundingClientRect();
            const s = getComputedStyle(el);
            return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && r.bottom > 0 && r.top > -1 &&
              !el.closest("[hidden]") && !el.classList.contains("skip-link");
          };
          const name = (el) =>
            el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " +
            (el.textContent || el.name || "").trim().slice(0, 20);
          for (const el of document.querySelectorAll("input, select, textarea, button")) {
            if (!visible(el)) continue;
            const px = parseFloat(getComputedStyle(el).fontSize);
            if (px < 16) out.push(`font ${px}px: ${name(el)}`);
          }
          for (let el of document.querySelectorAll("a[href], button, select, textarea, input")) {
            if (!visible(el)) continue;
            // A checkbox's tap target is its label.
            if (el.matches("input[type=checkbox], input[type=radio]") && el.closest("label")) el = el.closest("label");
            const r = el.getBoundingClientRect();
            const size = `${Math.round(r.width)}x${Math.round(r.height)}`;
            if (r.width < 44 || r.height < 44) out.push(`target ${size}: ${name(el)}`);
          }
          for (const el of document.querySelectorAll(".speaker")) {
            const px = parseFloat(getComputedStyle(el).fontSize);
            if (px < 14) out.push(`speaker ${px}px: ${name(el)}`);
          }
          if (document.documentElement.scrollWidth > window.innerWidth) {
            out.push(`page ${document.documentElement.scrollWidth}px wide on a ${window.innerWidth}px screen`);
          }
          return out;
        }"""
    )
    return problems
