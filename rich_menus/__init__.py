"""Rich menus: the big buttons under the LINE chat.

`font` (the shared Japanese TTF), `definitions` (menus as data, their LINE payloads), `images`
(Pillow drawings of them), `deploy` (upload, aliases, and which menu each user gets).
"""
