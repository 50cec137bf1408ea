import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/react';
import { ArgumentEditor } from './ArgumentEditor';
import { STANDARD_PARAMETERS, segmentArgument } from './parameters';

function Harness(props: { initial: string[]; onChange?: (args: string[]) => void; known?: string[] }) {
  const [args, setArgs] = useState(props.initial);
  return (
    <>
      <ArgumentEditor
        value={args}
        known={props.known}
        onChange={(a) => {
          setArgs(a);
          props.onChange?.(a);
        }}
      />
      <output data-testid="value">{JSON.stringify(args)}</output>
    </>
  );
}

const value = () => JSON.parse(screen.getByTestId('value').textContent!) as string[];

describe('segmentArgument', () => {
  it('splits literals and parameter references, keeping $${NAME} as a literal', () => {
    expect(segmentArgument('--tile=${X}_${Y}.tif')).toEqual([
      { kind: 'text', text: '--tile=' },
      { kind: 'parameter', name: 'X' },
      { kind: 'text', text: '_' },
      { kind: 'parameter', name: 'Y' },
      { kind: 'text', text: '.tif' },
    ]);
    expect(segmentArgument('cost $${X} and ${Z}')).toEqual([
      { kind: 'text', text: 'cost ${X} and ' },
      { kind: 'parameter', name: 'Z' },
    ]);
    expect(segmentArgument('plain')).toEqual([{ kind: 'text', text: 'plain' }]);
  });
});

describe('ArgumentEditor', () => {
  it('offers every standard parameter name', () => {
    render(<Harness initial={[]} />);
    const palette = screen.getByRole('toolbar', { name: 'Insert a parameter' });
    const offered = within(palette)
      .getAllByRole('button')
      .map((b) => b.textContent);
    expect(offered).toEqual([
      'PROJECT_NAME',
      'PROJECT_ROOT',
      'LOG_FILE',
      'X',
      'Y',
      'Z',
      'STEP_X',
      'STEP_Y',
      'STEP_Z',
      'EXPECTED_EXIT_CODE',
      'IS_CLUSTER_JOB',
      'TASK_ID',
      'ADJACENT_TILE_RELATIVE_PATH',
      'ADJACENT_TILE_NAME',
    ]);
    expect(STANDARD_PARAMETERS).toEqual(offered);
  });

  it('shows parameters inside an argument as chips and flags unknown ones', () => {
    render(<Harness initial={['--out=${PROJECT_ROOT}/x${X}', '${GAIN}', '$${Y}']} />);
    const first = screen.getByRole('button', { name: /Edit argument 1/ });
    expect([...first.querySelectorAll('[data-parameter]')].map((e) => e.getAttribute('data-parameter'))).toEqual([
      'PROJECT_ROOT',
      'X',
    ]);
    expect(first.textContent).toBe('--out=PROJECT_ROOT/xX');
    const second = screen.getByRole('button', { name: /Edit argument 2/ });
    expect(second.querySelector('[data-parameter="GAIN"]')!.className).toContain('param-unknown');
    // The escaped reference is literal text, not a chip.
    const third = screen.getByRole('button', { name: /Edit argument 3/ });
    expect(third.querySelector('[data-parameter]')).toBeNull();
    expect(third.textContent).toBe('${Y}');
    expect(document.querySelector('[data-unknown-parameters]')!.getAttribute('data-unknown-parameters')).toBe('GAIN');
  });

  it('accepts project parameters as known', () => {
    render(<Harness initial={['${GAIN}']} known={[...STANDARD_PARAMETERS, 'GAIN']} />);
    expect(document.querySelector('[data-parameter="GAIN"]')!.className).not.toContain('param-unknown');
    expect(document.querySelector('[data-unknown-parameters]')).toBeNull();
  });

  it('adds a palette parameter as an argument of its own when nothing is being typed', () => {
    const onChange = vi.fn();
    render(<Harness initial={['-v']} onChange={onChange} />);
    fireEvent.click(screen.getByRole('button', { name: 'Insert parameter TASK_ID' }));
    expect(value()).toEqual(['-v', '${TASK_ID}']);
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it('inserts a palette parameter at the caret of the argument being typed, Enter adds it', () => {
    render(<Harness initial={[]} />);
    const draft = screen.getByRole('textbox', { name: 'New argument' }) as HTMLInputElement;
    fireEvent.change(draft, { target: { value: '--z=.tif' } });
    draft.setSelectionRange(4, 4);
    fireEvent.click(screen.getByRole('button', { name: 'Insert parameter Z' }));
    expect(draft.value).toBe('--z=${Z}.tif');
    expect(value()).toEqual([]);
    fireEvent.keyDown(draft, { key: 'Enter' });
    expect(value()).toEqual(['--z=${Z}.tif']);
    expect(draft.value).toBe('');
  });

  it('edits, reorders and removes arguments', () => {
    render(<Harness initial={['a', 'b', 'c']} />);
    fireEvent.click(screen.getByRole('button', { name: 'Edit argument 2: b' }));
    const input = screen.getByRole('textbox', { name: 'Argument 2' });
    fireEvent.change(input, { target: { value: 'b-${Y}' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(value()).toEqual(['a', 'b-${Y}', 'c']);
    fireEvent.click(screen.getByRole('button', { name: 'Move argument 3 left' }));
    expect(value()).toEqual(['a', 'c', 'b-${Y}']);
    fireEvent.click(screen.getByRole('button', { name: 'Remove argument 1' }));
    expect(value()).toEqual(['c', 'b-${Y}']);
    // Emptying an argument removes it.
    fireEvent.click(screen.getByRole('button', { name: 'Edit argument 1: c' }));
    const again = screen.getByRole('textbox', { name: 'Argument 1' });
    fireEvent.change(again, { target: { value: '' } });
    fireEvent.keyDown(again, { key: 'Enter' });
    expect(value()).toEqual(['b-${Y}']);
  });

  it('inserts into the argument being edited, and Escape leaves it unchanged', () => {
    render(<Harness initial={['x=']} />);
    fireEvent.click(screen.getByRole('button', { name: 'Edit argument 1: x=' }));
    const input = screen.getByRole('textbox', { name: 'Argument 1' }) as HTMLInputElement;
    input.setSelectionRange(2, 2);
    fireEvent.click(screen.getByRole('button', { name: 'Insert parameter X' }));
    expect(input.value).toBe('x=${X}');
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(value()).toEqual(['x=${X}']);
    fireEvent.click(screen.getByRole('button', { name: 'Edit argument 1: x=${X}' }));
    const again = screen.getByRole('textbox', { name: 'Argument 1' });
    fireEvent.change(again, { target: { value: 'changed' } });
    fireEvent.keyDown(again, { key: 'Escape' });
    expect(value()).toEqual(['x=${X}']);
  });
});
