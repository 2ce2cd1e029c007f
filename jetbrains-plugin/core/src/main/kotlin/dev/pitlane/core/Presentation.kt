package dev.pitlane.core

import java.time.Duration
import java.time.Instant

/**
 * The text the IDE shows for a workspace, kept here so that it is tested
 * without an IDE.
 */
object Presentation {
    /** "Running", "Stopped", ... for a state (the label only: what a state allows comes from [Workspace.actions]). */
    fun stateLabel(state: WorkspaceState): String = when (state) {
        WorkspaceState.CREATING -> "Creating"
        WorkspaceState.RUNNING -> "Running"
        WorkspaceState.STOPPED -> "Stopped"
        WorkspaceState.ERROR -> "Error"
        WorkspaceState.DELETING -> "Deleting"
        WorkspaceState.INTERRUPTED -> "Interrupted"
        WorkspaceState.UNKNOWN -> "Unknown"
    }

    /** The repository (its last path element, without .git) and the branch: "api @ main". */
    fun sourceLabel(source: Source): String {
        val trimmed = source.url.trimEnd('/', '\\')
        val base = trimmed.substringAfterLast('/').substringAfterLast('\\').substringAfterLast(':').removeSuffix(".git")
        val repo = base.ifEmpty { trimmed }
        return if (source.ref.isNullOrEmpty()) repo else "$repo @ ${source.ref}"
    }

    /** "just now", "5 minutes ago", "3 hours ago", "2 days ago"; "never" for null. */
    fun ago(then: Instant?, now: Instant): String {
        if (then == null) return "never"
        val d = Duration.between(then, now)
        if (d.isNegative || d.seconds < 60) return "just now"
        val minutes = d.toMinutes()
        if (minutes < 60) return plural(minutes, "minute") + " ago"
        val hours = d.toHours()
        if (hours < 24) return plural(hours, "hour") + " ago"
        val days = d.toDays()
        if (days < 60) return plural(days, "day") + " ago"
        return plural(days / 30, "month") + " ago"
    }

    /** One line for a list row: "api  Running  api @ main  last used 5 minutes ago". */
    fun summary(ws: Workspace, now: Instant): String =
        "${ws.name}  ${stateLabel(ws.stateValue)}  ${sourceLabel(ws.source)}  last used ${ago(ws.lastUsedAtInstant, now)}"

    /** A tooltip with the details, one per line. */
    fun details(ws: Workspace): String = buildString {
        append("Source: ").append(ws.source.url)
        ws.source.ref?.takeIf { it.isNotEmpty() }?.let { append(" (").append(it).append(")") }
        append("\nSSH host: ").append(ws.sshHost)
        append("\nFolder: ").append(ws.folder)
        if (ws.image.isNotEmpty()) append("\nImage: ").append(ws.image)
        ws.ports?.takeIf { it.isNotEmpty() }?.let { append("\nPorts: ").append(it.joinToString(", ")) }
        ws.lastError?.takeIf { it.isNotEmpty() }?.let { append("\nError: ").append(it) }
    }

    private fun plural(n: Long, unit: String) = if (n == 1L) "1 $unit" else "$n ${unit}s"
}

/** Checks of the Create Workspace form, the same rules the engine applies. */
object CreateForm {
    private val nameRE = Regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")

    /** Null when [name] can name a workspace (or is empty: the bridge derives one), else why not. */
    fun nameError(name: String): String? =
        if (name.isEmpty() || nameRE.matches(name)) null
        else "Use lowercase letters, digits and '-' (not at the start or end), at most 63 characters."

    /** Null when [source] is set, else what to enter. */
    fun sourceError(source: String): String? =
        if (source.isNotBlank()) null else "Enter a git repository URL or choose a local folder."

    /**
     * The line under the configuration picker: how many devcontainer.json files [configs] has or, with none,
     * what Pitlane will use instead ([detection]'s message: "No devcontainer.json: Pitlane will use a detected
     * Go 1.24 + PostgreSQL setup.").
     */
    fun configStatus(configs: List<String>, detection: DetectResult?): String = when (configs.size) {
        0 -> detection?.message?.takeIf { it.isNotBlank() }?.let { msg ->
            val n = detection.warnings.orEmpty().size
            msg.replaceFirstChar { it.uppercase() } + "." + if (n > 0) " ${if (n == 1) "1 version" else "$n versions"} cannot be installed exactly: see the create log." else ""
        } ?: "No devcontainer.json: a Dockerfile or Pitlane's default image is used."
        1 -> "One configuration found."
        else -> "${configs.size} configurations found: pick one."
    }

    /**
     * The create params for the form's fields; blank optional fields are left out. [dotfiles] and
     * [dotfilesScript] are the plugin's settings: blank leaves the user's saved default in charge.
     */
    fun params(
        source: String,
        branch: String,
        name: String,
        configPath: String?,
        ide: String?,
        dotfiles: String? = null,
        dotfilesScript: String? = null,
        provider: ProviderInfo? = null,
    ): CreateParams =
        CreateParams(
            source = source.trim(),
            branch = branch.trim().ifEmpty { null },
            name = name.trim().ifEmpty { null },
            configPath = configPath?.trim()?.ifEmpty { null },
            ide = ide?.ifEmpty { null },
            dotfiles = dotfiles?.trim()?.ifEmpty { null }?.let {
                Dotfiles(repository = it, script = dotfilesScript?.trim()?.ifEmpty { null })
            },
            // The default provider is left out: absent means the default.
            provider = provider?.takeUnless { it.default }?.name?.ifEmpty { null },
        )

    /**
     * The providers the dialog offers, or null when there is nothing to
     * choose (one provider, or a bridge without provider/list).
     */
    fun providerChoice(providers: List<ProviderInfo>): List<ProviderInfo>? = providers.takeIf { it.size > 1 }

    /** The provider preselected in the choice: the default one, else the first. */
    fun defaultProvider(providers: List<ProviderInfo>): ProviderInfo? = providers.firstOrNull { it.default } ?: providers.firstOrNull()

    /** "dev (kubernetes): context kind-dev, namespace ws" for the choice. */
    fun providerLabel(p: ProviderInfo): String = buildString {
        append(p.name)
        if (p.kind.isNotEmpty()) append(" (").append(p.kind).append(")")
        p.description?.takeIf { it.isNotBlank() }?.let { append(": ").append(it) }
    }
}
