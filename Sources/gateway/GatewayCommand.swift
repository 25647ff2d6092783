import ArgumentParser

/// The `gateway` command line (README.md, "Command line"). `serve` is the default subcommand.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Authentication gateway for WeChat mini-programs.",
        discussion: """
            Mini-programs log in with wx.login() codes at POST /auth/login and get OAuth 2.0 style tokens;
            every other request must carry a bearer JWT, which the gateway verifies before forwarding the
            request to the legacy service with X-OpenId (and X-UnionId, X-AppId) set.
            """,
        subcommands: [
            ServeCommand.self, CheckCommand.self, TokenCommand.self, MockWeChatCommand.self, DemoCommand.self,
            SessionsCommand.self,
        ],
        defaultSubcommand: ServeCommand.self
    )
}

/// `--config`, shared by the commands that read gateway.conf.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Path to the configuration file.")
    var config: String = "./gateway.conf"
}
