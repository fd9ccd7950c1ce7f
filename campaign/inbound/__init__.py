"""Mail that comes back: bounces, calendar answers, auto-replies and complaints."""
