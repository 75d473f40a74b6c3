from coachbot.cli import main

main()
