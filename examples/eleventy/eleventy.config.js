// A minimal Eleventy site that builds the crawler's eleventy profile output offline.
// The crawl writes posts/*.md here (OUTPUT_ROOT=examples/eleventy -s OUTPUT_PROFILE=eleventy).
// Markdown bodies keep Eleventy's default Liquid preprocessing: the crawler's output is safe
// under it (template delimiters in the text are written with &#123;).
export default function (eleventyConfig) {
  // The instant, in UTC: shows that the front matter's +08:00 offset was honoured.
  eleventyConfig.addFilter("utc", (date) => date.toISOString());
  // Beijing wall-clock time, for display.
  eleventyConfig.addFilter("beijing", (date) =>
    new Intl.DateTimeFormat("sv-SE", {
      timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).format(date));
  eleventyConfig.ignores.add("node_modules/**");
}
