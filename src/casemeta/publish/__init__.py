"""Publication: tables assembled from results, rendered in every format, and figures."""

# Every format a table is written in (publish.formats writes them). Here, in a module that imports nothing, so
# that the command line can offer them (`casemeta export --format`) without loading pandas and the writers.
FORMATS = ("latex", "markdown", "html", "csv", "docx", "xlsx")
