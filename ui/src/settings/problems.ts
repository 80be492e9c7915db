// A setting's problems in the reader's words. The relay has the same checks (and words
// them in English when it refuses an op); here each has its own sentence per language.
import type { SettingProblem, SettingText } from '../lib/bindings'

type Translate = (key: string, options?: { values?: Record<string, string | number> }) => string

function field(text: SettingText, t: Translate): string {
  return text.field === 'template'
    ? t('settings.problem.field.template', { values: { name: text.name } })
    : t(`settings.problem.field.${text.field}`)
}

export function problemText(problem: SettingProblem, t: Translate): string {
  const key = `settings.problem.${problem.problem}`
  switch (problem.problem) {
    case 'too_many':
      return t(key, {
        values: { list: t(`settings.problem.list.${problem.list}`), count: problem.count, max: problem.max },
      })
    case 'variable_unclosed':
      return t(key, { values: { field: field(problem.text, t), open: '{{', close: '}}' } })
    case 'variable_unknown':
      return t(key, {
        values: {
          field: field(problem.text, t),
          name: `{{${problem.name}}}`,
          known: problem.known.map((k) => `{{${k}}}`).join(' '),
        },
      })
    default: {
      const { problem: _kind, ...values } = problem
      return t(key, { values: values as Record<string, string | number> })
    }
  }
}
