from admin_cli.main import cli

cli(prog_name="machi")
