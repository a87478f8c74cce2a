from rest_framework.authentication import TokenAuthentication, get_authorization_header


class TokenOrBearerAuthentication(TokenAuthentication):
    """DRF's token, sent as `Authorization: Token KEY` or `Authorization: Bearer KEY`."""

    keywords = (b"token", b"bearer")

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        self.keyword = parts[0].decode().capitalize()
        return super().authenticate(request)

    def authenticate_header(self, request):
        return "Token"
