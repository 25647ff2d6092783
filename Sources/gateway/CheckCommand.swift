import ArgumentParser
import GatewayCore

/// `gateway check`: validates gateway.conf like `nginx -t`.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration file and exit.",
        discussion: """
            Prints 'ok' and exits 0 (after a warning for each valid but dangerous setting), or prints every error \
            with its key path and exits 1.
            """
    )

    @OptionGroup var options: ConfigOption

    func run() throws {
        switch ConfigLoader().load(file: options.config) {
        case .success(let config):
            for warning in ConfigWarnings.of(config) { printError("\(options.config): warning: \(warning)") }
            print("\(options.config): ok")
        case .failure(let error):
            printError(error.description)
            printError("\(options.config): \(error.issues.count) error\(error.issues.count == 1 ? "" : "s")")
            throw ExitCode(1)
        }
    }
}
