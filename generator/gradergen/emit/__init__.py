"""IR + naming → files: render each language's templates, format, write."""
