import ArgumentParser

/// `gateway token mint`: prints an access token signed with the configured key.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Work with access tokens.",
        subcommands: []
    )
}
