// A small Eleventy site of our own that builds the crawler's eleventy profile output offline and
// looks like a news site. The crawl writes posts/*.md and static/images/qq/* here
// (OUTPUT_ROOT=examples/eleventy -s OUTPUT_PROFILE=eleventy); static/ is published at the
// site's root by the passthrough copy below. Under a sub-path, build with --pathprefix=/news/:
// the HTML <base> plugin puts the prefix on every absolute link, the images' too.
// Markdown bodies keep Eleventy's default Liquid preprocessing: the crawler's output is safe
// under it (template delimiters in the text are written with &#123;).
import { HtmlBasePlugin } from "@11ty/eleventy";

export default function (eleventyConfig) {
  eleventyConfig.addPassthroughCopy({ static: "/" });
  eleventyConfig.addPlugin(HtmlBasePlugin);
  // The instant, in UTC: shows that the front matter's +08:00 offset was honoured.
  eleventyConfig.addFilter("utc", (date) => date.toISOString());
  // Beijing wall-clock time, for display.
  eleventyConfig.addFilter("beijing", (date) =>
    new Intl.DateTimeFormat("sv-SE", {
      timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit",
    }).format(date));
  eleventyConfig.ignores.add("node_modules/**");
  eleventyConfig.ignores.add("static/**");
}
