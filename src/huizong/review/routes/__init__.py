"""The review app's routers, one module per group of pages (see ``huizong.review.app``)."""
