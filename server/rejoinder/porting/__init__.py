"""Moving a site's comments in (WordPress WXR, Disqus) and out (JSON, WXR), and forgetting a commenter."""
