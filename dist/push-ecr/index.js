process.setSourceMapsEnabled(true);await import('./run.js');
