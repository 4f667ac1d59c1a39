"""LIFF pages and their JSON API."""
