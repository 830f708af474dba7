"""Direct messages: conversations between members who may message each other (``conversations``), blocks
(``blocks``) and reports that moderators review (``reports``). Who may message whom is decided in
``forum.permissions`` only."""
