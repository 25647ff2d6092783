import ArgumentParser

/// `gateway demo`: starts the simulator, an echo upstream and the gateway, and prints a walk-through.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the simulator, an echo upstream and the gateway together, for a first look."
    )
}
