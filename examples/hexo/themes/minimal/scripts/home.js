// The home page: every post, newest first (Hexo ships no index without hexo-generator-index).
hexo.extend.generator.register("home", (locals) => ({
  path: "index.html",
  layout: ["index"],
  data: { posts: locals.posts.sort("-date") },
}));
