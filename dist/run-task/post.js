process.setSourceMapsEnabled(true);await import('./run-post.js');
