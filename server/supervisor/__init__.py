"""The supervisor's web pages' shell: cookie sign-in, CSRF, the page frame (server-rendered with Jinja2 for
a phone's browser) and the words pages share. The pages themselves live with what they show — conflicts in
sync/pages.py, cycle counts in server/counts/pages.py — and hang on the router made here (`shell.py`)."""
