"""Callosum's streaming server: sessions over REST and WebSockets, and the WebXR web client."""
