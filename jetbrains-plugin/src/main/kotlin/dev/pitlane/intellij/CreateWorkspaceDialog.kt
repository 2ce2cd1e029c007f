package dev.pitlane.intellij

import com.intellij.openapi.application.ApplicationManager
import com.intellij.openapi.application.ModalityState
import com.intellij.openapi.fileChooser.FileChooserDescriptorFactory
import com.intellij.openapi.project.Project
import com.intellij.openapi.ui.ComboBox
import com.intellij.openapi.ui.DialogWrapper
import com.intellij.openapi.ui.TextFieldWithBrowseButton
import com.intellij.openapi.ui.ValidationInfo
import com.intellij.ui.components.JBLabel
import com.intellij.ui.components.JBTextField
import com.intellij.util.ui.FormBuilder
import dev.pitlane.core.CreateForm
import dev.pitlane.core.CreateParams
import dev.pitlane.core.DetectResult
import dev.pitlane.core.ProviderInfo
import com.intellij.ui.SimpleListCellRenderer
import javax.swing.DefaultComboBoxModel
import javax.swing.JButton
import javax.swing.JComponent
import javax.swing.JPanel
import java.awt.BorderLayout

/**
 * Asks for the source (a git URL or a local folder), the branch, the name
 * and, when the source has several, which devcontainer.json to use. The
 * checks are [CreateForm]'s.
 */
class CreateWorkspaceDialog(private val project: Project?) : DialogWrapper(project) {
    private val source = TextFieldWithBrowseButton()
    private val branch = JBTextField()
    private val name = JBTextField()
    private val configs = ComboBox(DefaultComboBoxModel(arrayOf(AUTO)))
    private val findConfigs = JButton("Find Configurations")
    private val configStatus = JBLabel()
    // Shown only when the bridge offers more than one provider.
    private val providers = ComboBox(DefaultComboBoxModel<ProviderInfo>())
    private val providerLabel = JBLabel("Run on:")

    init {
        title = "Create Pitlane Workspace"
        source.addBrowseFolderListener(project, FileChooserDescriptorFactory.createSingleFolderDescriptor().withTitle("Local Folder"))
        source.textField.toolTipText = "A git URL (https, ssh, git@host:repo) or a folder on this machine"
        branch.emptyText.text = "the default branch"
        name.emptyText.text = "derived from the source"
        findConfigs.addActionListener { lookUpConfigs() }
        // Say what the source gets (its config, or a detected setup) as soon as it is entered.
        source.textField.addFocusListener(object : java.awt.event.FocusAdapter() {
            override fun focusLost(e: java.awt.event.FocusEvent?) = lookUpConfigs()
        })
        providers.renderer = SimpleListCellRenderer.create("") { CreateForm.providerLabel(it) }
        providers.isVisible = false
        providerLabel.isVisible = false
        lookUpProviders()
        init()
    }

    override fun createCenterPanel(): JComponent {
        val configRow = JPanel(BorderLayout(8, 0)).apply {
            add(configs, BorderLayout.CENTER)
            add(findConfigs, BorderLayout.EAST)
        }
        return FormBuilder.createFormBuilder()
            .addLabeledComponent("Repository URL or folder:", source)
            .addLabeledComponent("Branch:", branch)
            .addLabeledComponent("Workspace name:", name)
            .addLabeledComponent("Configuration:", configRow)
            .addComponentToRightColumn(configStatus)
            .addLabeledComponent(providerLabel, providers)
            .panel
    }

    override fun getPreferredFocusedComponent(): JComponent = source.textField

    override fun doValidate(): ValidationInfo? {
        CreateForm.sourceError(source.text)?.let { return ValidationInfo(it, source.textField) }
        CreateForm.nameError(name.text.trim())?.let { return ValidationInfo(it, name) }
        return null
    }

    /** The create params for what was entered; [ide] makes the answer say how to open the workspace. */
    fun params(ide: String?): CreateParams {
        val config = (configs.selectedItem as? String)?.takeIf { it != AUTO }
        val s = PitlaneSettings.get().state
        val provider = if (providers.isVisible) providers.selectedItem as? ProviderInfo else null
        return CreateForm.params(source.text, branch.text, name.text, config, ide, s.dotfilesRepository, s.dotfilesScript, provider)
    }

    /** Offers a provider choice when the bridge has several (a bridge without provider/list: none). */
    private fun lookUpProviders() {
        // Called before the dialog shows: any modality, so the update runs while it is open.
        val modality = ModalityState.any()
        ApplicationManager.getApplication().executeOnPooledThread {
            PitlaneService.get().session.providers().whenComplete { list, _ ->
                val choice = list?.let { CreateForm.providerChoice(it) } ?: return@whenComplete
                ApplicationManager.getApplication().invokeLater({
                    providers.model = DefaultComboBoxModel(choice.toTypedArray())
                    providers.selectedItem = CreateForm.defaultProvider(choice)
                    providers.isVisible = true
                    providerLabel.isVisible = true
                    pack()
                }, modality)
            }
        }
    }

    /** Asks the bridge for the source's devcontainer.json files and offers them. */
    private fun lookUpConfigs() {
        val src = source.text.trim()
        if (CreateForm.sourceError(src) != null) return
        configStatus.text = "Looking for devcontainer.json files…"
        findConfigs.isEnabled = false
        val modality = ModalityState.stateForComponent(source)
        // The first call may start the bridge process: not on the UI thread.
        ApplicationManager.getApplication().executeOnPooledThread {
            val session = PitlaneService.get().session
            val detection = session.detect(src).exceptionally { null }
            session.configs(src).thenCombine(detection) { found, d -> found to d }
                .whenComplete { r, error -> showConfigs(r?.first, r?.second, error, modality) }
        }
    }

    private fun showConfigs(found: List<String>?, detection: DetectResult?, error: Throwable?, modality: ModalityState) {
        ApplicationManager.getApplication().invokeLater({
            findConfigs.isEnabled = true
            if (error != null) {
                configStatus.text = error.message ?: "Cannot read the source."
                return@invokeLater
            }
            val paths = found.orEmpty()
            configs.model = DefaultComboBoxModel((listOf(AUTO) + paths).toTypedArray())
            configStatus.text = CreateForm.configStatus(paths, detection)
            if (paths.size > 1) configs.selectedIndex = 1
        }, modality)
    }

    private companion object {
        const val AUTO = "(found automatically)"
    }
}
